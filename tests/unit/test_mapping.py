"""Pure IB -> our data mapping, on ib_async's own objects."""

from __future__ import annotations

import datetime as dt

from ib_async import (
    AccountValue,
    CommissionReport,
    Execution,
    Fill,
    LimitOrder,
    MarketOrder,
    OrderStatus,
    PortfolioItem,
    Position,
    Stock,
    StopOrder,
    Trade,
    TradeLogEntry,
)

from trading.gateway import mapping

WHEN = dt.datetime(2025, 1, 15, 14, 30, 25, tzinfo=dt.UTC)
AAPL = Stock("AAPL", "SMART", "USD", conId=265598)


def trade(order: object, status: str, log: list[TradeLogEntry] | None = None) -> Trade:
    return Trade(AAPL, order, OrderStatus(status=status), [], log or [])  # type: ignore[arg-type]


def fill(exec_id: str, price: float, commission: float | None = None) -> Fill:
    execution = Execution(
        execId=exec_id,
        time=WHEN,
        side="BOT",
        shares=10.0,
        price=price,
        permId=7,
        orderId=3,
        orderRef="ref",
    )
    report = CommissionReport(execId=exec_id, commission=commission) if commission else None
    return Fill(AAPL, execution, report or CommissionReport(), WHEN)


def test_a_working_order_row_is_the_guides_shape_with_its_warnings() -> None:
    order = LimitOrder("BUY", 10, 230.0, orderId=3, permId=7, clientId=0, tif="DAY")
    warning = {"code": 2109, "message": "Outside Regular Trading Hours ignored"}

    row = mapping.order_row(trade(order, "Submitted"), [warning])

    assert row == {
        "orderId": 3,
        "permId": 7,
        "clientId": 0,
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 10,
        "type": "LMT",
        "trigger": 230.0,
        "status": "SUBMITTED",
        "filled": 0,
        "tif": "DAY",
        "orderRef": "",
        "parentPermId": None,
        "warnings": [warning],
        "lmtPrice": 230.0,
        "auxPrice": None,
        "trailingPercent": None,
        "trailStopPrice": None,
        "outsideRth": False,
        "ocaGroup": "",
        "parentId": None,
        "conId": 265598,
        "secType": "STK",
    }
    assert isinstance(row["quantity"], int)


def test_the_trigger_is_the_stop_price_of_a_stop_and_a_dash_for_a_market_order() -> None:
    assert (
        mapping.order_row(trade(StopOrder("SELL", 1, 225.0), "Submitted"), [])["trigger"] == 225.0
    )
    assert mapping.order_row(trade(MarketOrder("BUY", 1), "Submitted"), [])["trigger"] == "—"


def test_a_warning_ib_async_mistook_for_a_cancel_leaves_the_order_working() -> None:
    """ib_async marks an order Cancelled on 10349 (it does not know the code);
    IB's next orderStatus puts the real status back.  Until then the status
    IB last sent stands."""
    log = [
        TradeLogEntry(WHEN, "PendingSubmit", "", 0),
        TradeLogEntry(WHEN, "Submitted", "", 0),
        TradeLogEntry(WHEN, "Cancelled", "Error 10349: Order TIF was set to DAY", 10349),
    ]

    masked = trade(LimitOrder("BUY", 1, 200.0), "Cancelled", log)

    assert mapping.order_status(masked) == "Submitted"
    assert not mapping.is_finished(masked)


def test_a_validation_error_status_after_a_known_warning_reads_through_too() -> None:
    log = [
        TradeLogEntry(WHEN, "PreSubmitted", "", 0),
        TradeLogEntry(WHEN, "ValidationError", "", 2109),
    ]

    assert (
        mapping.order_status(trade(MarketOrder("BUY", 1), "ValidationError", log)) == "PreSubmitted"
    )


def test_a_real_cancel_after_a_warning_is_a_cancel() -> None:
    log = [
        TradeLogEntry(WHEN, "Submitted", "", 10349),
        TradeLogEntry(WHEN, "Cancelled", "", 0),
    ]

    assert mapping.order_status(trade(LimitOrder("BUY", 1, 200.0), "Cancelled", log)) == "Cancelled"


def test_a_rejection_is_a_cancel() -> None:
    log = [TradeLogEntry(WHEN, "Cancelled", "Error 201: rejected", 201)]

    assert mapping.is_finished(trade(LimitOrder("BUY", 1, 200.0), "Cancelled", log))


def test_execution_rows_keep_the_newest_revision_by_number_not_by_text() -> None:
    """Regression: revisions were compared as text, so .9 beat .10."""
    fills = [fill("0001.abc.01.9", 230.0), fill("0001.abc.01.10", 231.0)]

    rows = mapping.execution_rows(fills, requested={"0001.abc.01.10"})

    assert [(r["execId"], r["price"], r["source"]) for r in rows] == [
        ("0001.abc.01.10", 231.0, "reqExecutions")
    ]
    assert (rows[0]["time"], rows[0]["timestamp"]) == ("20250115 14:30:25", "2025-01-15T14:30:25Z")


def test_the_journal_gets_the_execution_with_ib_s_own_time_text_and_commission() -> None:
    data = mapping.execution_data(
        fill("0001.abc.01.01", 230.5, commission=1.0),
        ib_time="20250115 14:30:25 UTC",
        pnl_unset=True,
    )

    assert data["exec_id"] == "0001.abc.01.01"
    assert data["side"] == "BUY"
    assert data["executed_at"] == "2025-01-15T14:30:25+00:00"
    assert data["ib_time"] == "20250115 14:30:25 UTC"
    assert (data["commission"], data["realized_pnl"]) == (1.0, None)
    assert (data["con_id"], data["sec_type"]) == (265598, "STK")


def test_the_journal_gets_the_orders_contract_by_its_conid() -> None:
    order = LimitOrder("BUY", 10, 230.0, orderId=3, permId=7, clientId=0, tif="DAY")

    data = mapping.order_data(trade(order, "Submitted"))
    finished = mapping.finished_order(trade(order, "Filled"))

    assert (data["symbol"], data["con_id"], data["sec_type"]) == ("AAPL", 265598, "STK")
    assert (finished["con_id"], finished["sec_type"]) == (265598, "STK")


def test_account_summary_takes_usd_values_and_leaves_unknown_ones_none() -> None:
    values = [
        AccountValue("DU1", "NetLiquidation", "1000.5", "USD", ""),
        AccountValue("DU1", "NetLiquidation", "900", "EUR", ""),
        AccountValue("DU1", "AvailableFunds", "x", "USD", ""),
    ]

    summary = mapping.account_summary(values, "DU1")

    assert summary["net_liquidation"] == 1000.5
    assert summary["available_funds"] is None
    assert (summary["account"], summary["currency"]) == ("DU1", "USD")


def test_positions_skip_closed_ones_and_carry_market_data_where_ib_has_it() -> None:
    msft = Stock("MSFT", "SMART", "USD", conId=272093)
    positions = [
        Position("DU1", AAPL, 10.0, 230.5),
        Position("DU1", msft, 0.0, 400.0),
    ]
    portfolio = [PortfolioItem(AAPL, 10.0, 236.42, 2364.2, 230.5, 59.2, 0.0, "DU1")]

    rows = mapping.position_rows(positions, portfolio)

    assert rows == [
        {
            "symbol": "AAPL",
            "conId": 265598,
            "sec_type": "STK",
            "currency": "USD",
            "qty": 10,
            "avg_cost": 230.5,
            "market_price": 236.42,
            "market_value": 2364.2,
            "unrealized_pnl": 59.2,
            "realized_pnl": 0.0,
        }
    ]

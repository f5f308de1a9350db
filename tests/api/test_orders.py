"""Orders end to end: HTTP -> web -> Redis queue -> gateway worker -> ibsim."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack import Stack, eventually

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def pending(api: Stack) -> dict[int, dict[str, Any]]:
    response = api.get("/orders")
    assert response.status_code == 200
    return {o["permId"]: o for o in response.json()["orders"]}


def executions_for(api: Stack, order_ref: str) -> list[dict[str, Any]]:
    rows = api.get("/executions").json()["executions"]
    return [row for row in rows if row.get("orderRef") == order_ref]


def test_limit_order_rests_then_fills_when_the_price_comes_down(api: Stack) -> None:
    body = {
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 10,
        "limit_price": 230.00,
        "order_ref": "limit-rests-1",
    }
    response = api.post("/order/limit", body)

    assert response.status_code == 200
    data = response.json()
    assert data == {"status": "✅ Limit order sent", "permId": data["permId"]}
    perm_id = data["permId"]
    order = pending(api)[perm_id]
    assert order == {
        "orderId": order["orderId"],
        "permId": perm_id,
        "clientId": 0,
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 10,
        "type": "LMT",
        "trigger": 230.0,
        "status": "SUBMITTED",
        "filled": 0,
        "tif": "DAY",
        "orderRef": "limit-rests-1",
        "parentPermId": None,
        "warnings": [],
    }

    api.sim.call("set_price", symbol="AAPL", price=229.87)

    eventually(lambda: perm_id not in pending(api))
    (fill,) = eventually(
        lambda: [f for f in executions_for(api, "limit-rests-1") if f["commission"] is not None]
    )
    assert fill["symbol"] == "AAPL"
    assert fill["side"] == "BUY"
    assert fill["qty"] == 10
    assert fill["price"] <= 230.00
    assert fill["permId"] == perm_id
    assert fill["commission"] == 1.0
    assert fill["source"] == "trades()"
    assert len(fill["time"]) == len("20240115 14:30:25")


def test_market_order_fills_at_once_and_updates_positions(api: Stack) -> None:
    before = {p["symbol"]: p for p in api.get("/positions").json()["positions"]}
    msft_before = before.get("MSFT", {"qty": 0})["qty"]
    api.sim.call("set_quote", symbol="MSFT", bid=415.08, ask=415.12, last=415.10)

    response = api.post(
        "/order/market",
        {"symbol": "msft", "action": "BUY", "quantity": 3, "order_ref": "market-1"},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "✅ Market order sent"
    (fill,) = eventually(lambda: executions_for(api, "market-1"))
    # At the ask.
    assert (fill["symbol"], fill["side"], fill["qty"], fill["price"]) == ("MSFT", "BUY", 3, 415.12)

    def msft() -> dict[str, Any] | None:
        rows = {p["symbol"]: p for p in api.get("/positions").json()["positions"]}
        row = rows.get("MSFT")
        return row if row and row["qty"] == msft_before + 3 else None

    position = eventually(msft)
    assert position["market_price"] == 415.10
    assert position["market_value"] == pytest.approx(position["qty"] * 415.10, abs=0.01)


def test_stop_order_waits_then_triggers_at_or_below_the_stop(api: Stack) -> None:
    api.post("/order/market", {"symbol": "TSLA", "action": "BUY", "quantity": 10})
    response = api.post(
        "/order/stop",
        {
            "symbol": "TSLA",
            "action": "SELL",
            "quantity": 10,
            "stop_price": 245.00,
            "order_ref": "stop-1",
        },
    )
    assert response.status_code == 200
    assert response.json()["status"] == "✅ Stop order sent"
    perm_id = response.json()["permId"]
    order = pending(api)[perm_id]
    assert (order["type"], order["trigger"], order["status"]) == ("STP", 245.0, "PRESUBMITTED")

    api.sim.call("set_price", symbol="TSLA", price=246.0)
    assert perm_id in pending(api)
    api.sim.call("set_quote", symbol="TSLA", bid=244.89, ask=244.91, last=244.9)

    (fill,) = eventually(lambda: executions_for(api, "stop-1"))
    # Triggered by the last trade, filled as a market order: at the bid.
    assert (fill["side"], fill["qty"], fill["price"]) == ("SELL", 10, 244.89)
    eventually(lambda: perm_id not in pending(api))


def test_bracket_answers_three_perm_ids_and_the_exits_are_one_cancels_other(api: Stack) -> None:
    body = {
        "symbol": "AMZN",
        "action": "BUY",
        "quantity": 10,
        "entry_price": 185.00,
        "stop_loss": 180.00,
        "take_profit": 190.00,
        "order_ref": "bracket-1",
    }
    response = api.post("/order/bracket", body)

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "✅ Bracket order sent"
    parent, stop_loss, take_profit = data["permIds"]
    orders = pending(api)
    assert orders[parent]["type"] == "LMT"
    assert orders[parent]["trigger"] == 185.0
    assert orders[parent]["status"] == "SUBMITTED"
    assert (orders[stop_loss]["type"], orders[stop_loss]["trigger"]) == ("STP", 180.0)
    assert (orders[take_profit]["type"], orders[take_profit]["trigger"]) == ("LMT", 190.0)
    assert orders[stop_loss]["status"] == orders[take_profit]["status"] == "PRESUBMITTED"

    api.sim.call("set_price", symbol="AMZN", price=184.5)  # the entry fills
    eventually(lambda: parent not in pending(api))
    assert orders.keys() - {parent} <= pending(api).keys()

    api.sim.call("set_price", symbol="AMZN", price=190.25)  # take-profit fills

    eventually(lambda: not ({stop_loss, take_profit} & pending(api).keys()))
    fills = executions_for(api, "bracket-1")
    assert sorted((f["side"], f["permId"]) for f in fills) == sorted(
        [("BUY", parent), ("SELL", take_profit)]
    )
    assert api.post("/order/cancel", {"perm_id": stop_loss}).status_code == 404


def test_cancel_pending_then_again_then_filled_then_unknown(api: Stack) -> None:
    perm_id = api.post(
        "/order/limit", {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 200.0}
    ).json()["permId"]

    response = api.post("/order/cancel", {"perm_id": perm_id})

    assert response.status_code == 200
    assert response.json() == {"status": f"✅ Order {perm_id} cancelled"}
    assert perm_id not in pending(api)
    again = api.post("/order/cancel", {"perm_id": perm_id})
    assert (again.status_code, again.json()) == (
        404,
        {"detail": "Order not found or already filled"},
    )
    filled = api.post("/order/market", {"symbol": "AAPL", "action": "BUY", "quantity": 1})
    gone = api.post("/order/cancel", {"perm_id": filled.json()["permId"]})
    assert (gone.status_code, gone.json()) == (404, {"detail": "Order not found or already filled"})
    unknown = api.post("/order/cancel", {"perm_id": 999_999_999_999})
    assert unknown.status_code == 404


def test_unknown_symbol_is_a_400_with_the_guides_wording(api: Stack) -> None:
    placed_before = api.sim.call("counters")["orders_total"]

    response = api.post(
        "/order/limit", {"symbol": "INVALID", "action": "BUY", "quantity": 10, "limit_price": 230.0}
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Failed to place limit order: Could not qualify contract for symbol: INVALID"
    }
    assert api.sim.call("counters")["orders_total"] == placed_before


def test_rejected_order_is_a_400_and_leaves_nothing_behind(api: Stack) -> None:
    api.sim.call("reject_next_order", reason="Insufficient buying power")

    response = api.post(
        "/order/limit",
        {
            "symbol": "AAPL",
            "action": "BUY",
            "quantity": 5,
            "limit_price": 201.0,
            "order_ref": "rej",
        },
    )

    assert response.status_code == 400
    assert "Insufficient buying power" in response.json()["detail"]
    assert not [o for o in pending(api).values() if o["orderRef"] == "rej"]


def test_orders_of_other_clients_are_listed_and_cancellable(api: Stack) -> None:
    from ib_async import IB, LimitOrder, Stock

    ib = IB()
    ib.connect("127.0.0.1", api.sim_port, clientId=31, timeout=5)
    try:
        trade = ib.placeOrder(Stock("GLD", "SMART", "USD"), LimitOrder("BUY", 2, 200.0))
        perm_id = eventually(lambda: (ib.sleep(0.05), trade.order.permId)[1], timeout=5)
        order = eventually(lambda: pending(api).get(perm_id))
        assert (order["clientId"], order["symbol"], order["status"]) == (31, "GLD", "SUBMITTED")

        response = api.post("/order/cancel", {"perm_id": perm_id})

        assert response.status_code == 200
        eventually(lambda: (ib.sleep(0.05), trade.orderStatus.status == "Cancelled")[1])
    finally:
        ib.disconnect()

"""/v2's pure mappings alone (no stack, no database): IB's statuses, types,
times in force and sides in Alpaca's words; the ids; numbers as Alpaca's
decimal strings; and that alpaca-py's own models parse every object the
mappings build."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.models import AccountConfiguration, Order, Position, TradeAccount

from v2api import ids, mapping, portfolio

NOW = dt.datetime(2025, 1, 15, 14, 30, 25, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("ib_status", "alpaca"),
    [
        ("ApiPending", "accepted"),
        ("PendingSubmit", "pending_new"),
        ("PreSubmitted", "accepted"),
        ("Submitted", "new"),
        ("PendingCancel", "pending_cancel"),
        ("ApiCancelled", "canceled"),
        ("Cancelled", "canceled"),
        ("Filled", "filled"),
        ("Inactive", "rejected"),
        ("SUBMITTED", "new"),  # the mirror's spelling
        ("PRESUBMITTED", "accepted"),
        ("SomethingNew", "accepted"),  # a status IB may add: the order exists at IB
    ],
)
def test_each_ib_status_has_one_alpaca_status(ib_status: str, alpaca: str) -> None:
    assert mapping.order_status(ib_status, filled=0, quantity=10, has_parent=False) == alpaca


@pytest.mark.parametrize("ib_status", ["Submitted", "PreSubmitted", "PendingSubmit"])
def test_a_working_order_with_some_filled_is_partially_filled(ib_status: str) -> None:
    status = mapping.order_status(ib_status, filled=4, quantity=10, has_parent=False)

    assert status == "partially_filled"


def test_a_cancelled_order_stays_canceled_whatever_was_filled() -> None:
    assert mapping.order_status("Cancelled", filled=4, quantity=10, has_parent=False) == "canceled"


def test_a_held_child_of_a_bracket_is_held_and_a_working_one_new() -> None:
    assert mapping.order_status("PreSubmitted", filled=0, quantity=10, has_parent=True) == "held"
    assert mapping.order_status("Submitted", filled=0, quantity=10, has_parent=True) == "new"


@pytest.mark.parametrize("ib_status", ["Submitted", "PreSubmitted", "PendingSubmit"])
def test_a_working_order_being_replaced_is_pending_replace_even_partly_filled(
    ib_status: str,
) -> None:
    for filled in (0, 4):
        status = mapping.order_status(
            ib_status, filled=filled, quantity=10, has_parent=False, replacing=True
        )
        assert status == "pending_replace"


@pytest.mark.parametrize("ib_status", ["Filled", "Cancelled", "Inactive"])
def test_a_finished_order_is_never_pending_replace_nor_done_for_the_day(ib_status: str) -> None:
    plain = mapping.order_status(ib_status, filled=10, quantity=10, has_parent=False)
    flagged = mapping.order_status(
        ib_status, filled=10, quantity=10, has_parent=False, replacing=True, day_done=True
    )
    assert flagged == plain != "pending_replace"


def test_a_working_order_done_for_the_day_is_done_for_day_even_partly_filled() -> None:
    for filled in (0, 4):
        status = mapping.order_status(
            "PreSubmitted", filled=filled, quantity=10, has_parent=False, day_done=True
        )
        assert status == "done_for_day"


@pytest.mark.parametrize(
    ("status", "worked", "market_closed", "done"),
    [
        ("PreSubmitted", True, True, True),  # worked today, held since the close
        ("PRESUBMITTED", True, True, True),  # the mirror's spelling
        ("PreSubmitted", False, True, False),  # placed since the close: accepted
        ("Submitted", True, True, False),  # trades outside regular hours: new
        ("PreSubmitted", True, False, False),  # the session is on (a stop waiting)
    ],
)
def test_done_for_the_day_is_an_order_ib_holds_after_the_close_that_had_worked(
    status: str, worked: bool, market_closed: bool, done: bool
) -> None:
    record = {"status": status, "worked": worked}
    assert mapping.done_for_day(record, market_closed=market_closed) is done


def test_an_order_worked_once_ib_reported_it_submitted() -> None:
    row: dict[str, Any] = {name: None for name in mapping.JOURNAL_FIELDS}
    row.update(perm_id=1, status="PreSubmitted", quantity=1, filled=0, expired=False)
    history = [["2027-03-10T15:58:00+00:00", "PreSubmitted"]]
    assert mapping.record_from_journal({**row, "status_history": history})["worked"] is False
    history.append(["2027-03-10T15:58:01+00:00", "Submitted"])
    assert mapping.record_from_journal({**row, "status_history": history})["worked"] is True


@pytest.mark.parametrize(
    ("ib_type", "ib_tif", "kind", "tif"),
    [
        ("MKT", "DAY", "market", "day"),
        ("LMT", "GTC", "limit", "gtc"),
        ("STP", "IOC", "stop", "ioc"),
        ("STP LMT", "FOK", "stop_limit", "fok"),
        ("TRAIL", "OPG", "trailing_stop", "opg"),
        ("MOC", "DAY", "market", "cls"),
        ("LOC", "DAY", "limit", "cls"),
        ("LMT", "GTD", "limit", "gtc"),
        ("LMT", "", "limit", "day"),
        ("REL", "DAY", None, "day"),
    ],
)
def test_ib_types_and_times_in_force_in_alpacas_words(
    ib_type: str, ib_tif: str, kind: str | None, tif: str
) -> None:
    assert (mapping.order_type(ib_type), mapping.time_in_force(ib_tif, ib_type)) == (kind, tif)


@pytest.mark.parametrize("perm_id", [1, 1788680597, 2**31, 2**62 - 1, 2**62, ids.MAX_PERM_ID])
def test_an_order_id_gives_back_its_perm_id(perm_id: int) -> None:
    order_id = ids.order_uuid(perm_id)

    assert ids.perm_id_of(order_id) == perm_id
    assert ids.parse_order_id(str(order_id).upper()) == perm_id
    assert (order_id.version, order_id.variant) == (8, uuid.RFC_4122)


@pytest.mark.parametrize("perm_id", [1, 1788680597, 2**62, ids.MAX_PERM_ID])
@pytest.mark.parametrize("revision", [1, 2, ids.MAX_REVISION])
def test_a_replacements_id_gives_back_its_perm_id_and_revision(perm_id: int, revision: int) -> None:
    order_id = ids.order_uuid(perm_id, revision)

    assert order_id != ids.order_uuid(perm_id)
    assert ids.order_of(order_id) == (perm_id, revision)
    assert ids.parse_order(str(order_id)) == (perm_id, revision)
    assert ids.perm_id_of(order_id) == perm_id
    assert (order_id.version, order_id.variant) == (8, uuid.RFC_4122)


@pytest.mark.parametrize("revision", [-1, ids.MAX_REVISION + 1])
def test_a_revision_out_of_range_is_refused(revision: int) -> None:
    with pytest.raises(ValueError, match="not a revision"):
        ids.order_uuid(1788680597, revision)


def test_order_and_asset_ids_are_stable_across_releases() -> None:
    """Pinned: a client stores these ids; a change of derivation would orphan them.
    An asset id is derived from IB's conId (AAPL's: 265598), no longer from the symbol."""
    assert str(ids.order_uuid(1788680597)) == "e24fc749-8e41-8000-8000-00006a9d1995"
    assert str(ids.asset_uuid(265598)) == "fb9e9be8-7e2e-52ee-a1cd-00523c043964"
    assert ids.asset_id(265598) == "fb9e9be8-7e2e-52ee-a1cd-00523c043964"


def test_without_a_conid_an_asset_id_is_unknown_not_derived_from_something_else() -> None:
    assert ids.asset_id(None) is None
    with pytest.raises(ValueError, match="not a conId"):
        ids.asset_uuid(0)


@pytest.mark.parametrize(
    "text", ["not-a-uuid", str(uuid.uuid4()), "e24fc749-8e41-8000-8000-000000000000", ""]
)
def test_an_id_that_names_no_order_of_ours_is_none(text: str) -> None:
    assert ids.parse_order_id(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (10, "10"),
        (10.0, "10"),
        (236.42, "236.42"),
        (0.1 + 0.2, "0.3"),
        (0.00001, "0.00001"),
        (-2364.2, "-2364.2"),
        (-0.0, "0"),
        (Decimal("230.500000"), "230.5"),
        (None, None),
    ],
)
def test_numbers_are_decimal_strings_without_float_noise(value: Any, text: str | None) -> None:
    assert mapping.decimal_text(value) == text


JOURNAL_ROW = {
    "perm_id": 1788680597,
    "order_ref": "my-order-1",
    "symbol": "AAPL",
    "con_id": 265598,
    "sec_type": "STK",
    "action": "BUY",
    "order_type": "LMT",
    "status": "Filled",
    "quantity": Decimal("10.0000"),
    "filled": Decimal("10.0000"),
    "limit_price": Decimal("230.000000"),
    "stop_price": None,
    "avg_fill_price": Decimal("229.990000"),
    "tif": "DAY",
    "parent_perm_id": None,
    "placed_at": NOW,
    "status_history": [
        [NOW.isoformat(), "Submitted"],
        [(NOW + dt.timedelta(seconds=5)).isoformat(), "Filled"],
    ],
    "finished_at": NOW + dt.timedelta(seconds=5),
}


def test_a_filled_order_of_the_journal_in_alpacas_shape() -> None:
    body = mapping.order_out(mapping.record_from_journal(JOURNAL_ROW), now=NOW)
    order = Order(**body)

    assert order.id == ids.order_uuid(1788680597)
    assert order.asset_id == ids.asset_uuid(265598)
    assert (order.client_order_id, order.symbol, order.side, order.type) == (
        "my-order-1",
        "AAPL",
        "buy",
        "limit",
    )
    assert (order.qty, order.filled_qty, order.filled_avg_price) == ("10", "10", "229.99")
    assert (order.limit_price, order.stop_price, order.status) == ("230", None, "filled")
    assert order.filled_at == NOW + dt.timedelta(seconds=5)
    assert order.updated_at == NOW + dt.timedelta(seconds=5)
    assert (order.canceled_at, order.order_class, order.time_in_force) == (None, "simple", "day")


def test_a_working_order_of_the_mirror_over_its_journal_row() -> None:
    mirror_row = {
        "orderId": 12,
        "permId": 1788680598,
        "clientId": 0,
        "symbol": "TSLA",
        "action": "SELL",
        "quantity": 10,
        "type": "STP",
        "trigger": 245.0,
        "status": "PRESUBMITTED",
        "filled": 0,
        "tif": "DAY",
        "orderRef": "",
        "parentPermId": None,
        "warnings": [],
        "conId": 76792991,
        "secType": "STK",
    }

    alone = Order(**mapping.order_out(mapping.record_from_mirror(mirror_row, None), now=NOW))
    stored = mapping.record_from_journal({**JOURNAL_ROW, "status": "Submitted"})
    over = Order(**mapping.order_out(mapping.record_from_mirror(mirror_row, stored), now=NOW))

    assert (alone.status, alone.type, alone.stop_price, alone.limit_price) == (
        "accepted",
        "stop",
        "245",
        None,
    )
    assert (alone.created_at, alone.client_order_id) == (NOW, "")
    assert over.status == "accepted"  # the mirror's word on the status
    assert over.created_at == NOW  # the journal's on the time
    assert alone.asset_id == over.asset_id == ids.asset_uuid(76792991)


def test_an_order_stored_before_conids_has_no_asset_id_of_its_own() -> None:
    """A journal row without a conId: v2api.selectors.con_ids_filled gives it
    its symbol's; the mapping alone never makes one up."""
    record = mapping.record_from_journal({**JOURNAL_ROW, "con_id": None, "sec_type": ""})
    order = Order(**mapping.order_out(record, now=NOW))

    assert order.asset_id is None
    assert Order(**mapping.order_out({**record, "con_id": 265598}, now=NOW)).asset_id == (
        ids.asset_uuid(265598)
    )


ACCOUNT = {
    "account": "DU1234567",
    "net_liquidation": 201879.04,
    "available_funds": 200000.0,
    "total_cash_value": 199514.84,
    "buying_power": 800000.0,
    "gross_position_value": 2364.2,
    "unrealized_pnl": 59.2,
    "realized_pnl": 0.0,
    "currency": "USD",
}
POSITION = {
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
SHORT = {
    **POSITION,
    "symbol": "TSLA",
    "conId": 76792991,
    "qty": -5,
    "avg_cost": 250.0,
    "market_value": -1200.5,
}
FUTURE = {**POSITION, "symbol": "ES", "sec_type": "FUT"}


def test_the_account_in_alpacas_shape() -> None:
    body = portfolio.account_out(ACCOUNT, [POSITION, SHORT, FUTURE], halted=True)
    account = TradeAccount(**body)

    assert account.id == uuid.uuid5(ids.ACCOUNT_NAMESPACE, "DU1234567")
    assert (account.account_number, account.status, account.currency) == (
        "DU1234567",
        "ACTIVE",
        "USD",
    )
    assert (account.equity, account.portfolio_value, account.cash) == (
        "201879.04",
        "201879.04",
        "199514.84",
    )
    assert (account.buying_power, account.multiplier) == ("800000", "4")
    assert (account.long_market_value, account.short_market_value) == ("2364.2", "-1200.5")
    assert account.trading_blocked is True
    assert account.last_equity is None  # unknown, not "0"


def test_unreported_account_values_are_null_never_zero() -> None:
    body = portfolio.account_out({"account": "DU1", "currency": "USD"}, [], halted=False)

    assert (body["equity"], body["buying_power"], body["multiplier"]) == (None, None, None)
    assert (body["long_market_value"], body["short_market_value"]) == ("0", "0")
    TradeAccount(**body)


def test_the_configuration_says_what_this_service_does() -> None:
    config = AccountConfiguration(**portfolio.configuration_out(ACCOUNT, halted=False))

    assert (config.fractional_trading, config.suspend_trade, config.max_margin_multiplier) == (
        False,
        False,
        "4",
    )


def test_positions_in_alpacas_shape_long_and_short() -> None:
    long = Position(**portfolio.position_out(POSITION))  # type: ignore[arg-type]
    short = Position(**portfolio.position_out(SHORT))  # type: ignore[arg-type]

    assert long.asset_id == ids.asset_uuid(265598)
    assert short.asset_id == ids.asset_uuid(76792991)
    assert (long.qty, long.side, long.avg_entry_price, long.cost_basis) == (
        "10",
        "long",
        "230.5",
        "2305",
    )
    assert (long.market_value, long.current_price, long.unrealized_pl) == (
        "2364.2",
        "236.42",
        "59.2",
    )
    assert long.unrealized_plpc == mapping.decimal_text(round(59.2 / 2305, 10))
    assert (short.qty, short.side, short.cost_basis) == ("-5", "short", "-1250")


def test_a_position_alpaca_has_no_asset_class_for_is_left_out() -> None:
    assert portfolio.position_out(FUTURE) is None


def test_every_status_the_mapping_gives_is_in_the_schemas_enum_and_alpaca_pys() -> None:
    from alpaca.trading.enums import OrderStatus

    from v2api.serializers import ORDER_STATUSES

    given = {
        mapping.order_status(
            ib_status,
            filled=filled,
            quantity=10,
            has_parent=parent,
            expired=flags[0],
            replacing=flags[1],
            day_done=flags[2],
        )
        for ib_status in [*mapping.ORDER_STATUSES, "SomethingNew"]
        for filled in (0, 4, 10)
        for parent in (False, True)
        for flags in itertools.product((False, True), repeat=3)
    } | {"replaced"}  # a replaced revision (mapping.record_replaced)
    assert given == set(ORDER_STATUSES)
    assert given <= {status.value for status in OrderStatus}


def test_a_finished_trailing_stop_of_the_journal_keeps_its_trail_and_hours() -> None:
    row: dict[str, Any] = {name: None for name in mapping.JOURNAL_FIELDS}
    row.update(
        perm_id=7,
        order_ref="trail",
        symbol="AAPL",
        action="SELL",
        order_type="TRAIL",
        status="Cancelled",
        quantity=Decimal(3),
        filled=Decimal(0),
        tif="GTC",
        placed_at=NOW,
        finished_at=NOW,
        status_history=[],
        expired=False,
        oca_group="",
        trail_percent=Decimal("2.5"),
        trail_stop_price=Decimal("230.5"),
        outside_rth=True,
    )
    out = mapping.order_out(mapping.record_from_journal(row), now=NOW)
    assert (out["trail_percent"], out["trail_price"], out["stop_price"]) == ("2.5", None, "230.5")
    assert (out["extended_hours"], out["status"]) == (True, "canceled")

"""The pure parts of /v2's activities, P&L and position closing: activity
ids and page tokens, a stored fill in Alpaca's shape (parsed by alpaca-py's
TradeActivity), the shares a close asks for, IB's P&L figures."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from alpaca.trading.enums import TradeActivityType
from alpaca.trading.models import TradeActivity
from ib_async import IB, PnL

from trading.gateway.pnl import UNSET_DOUBLE, pnl_section
from v2api import activities
from v2api.ids import order_uuid
from v2api.positions import CloseQuantityExceeds, CloseQuantityFractional, close_quantity
from v2api.serializers_account import AlpacaClosePositionQuery

EXECUTED = dt.datetime(2026, 1, 5, 15, 34, 6, 977_123, tzinfo=dt.UTC)


def stored_fill(**changes: Any) -> dict[str, Any]:
    row = {
        "id": 7,
        "exec_id": "0000e0d5.6763a1b2.01.01",
        "perm_id": 123456789,
        "account": "DU1234567",
        "symbol": "XOM",
        "side": "BUY",
        "quantity": Decimal("100.0000"),
        "price": Decimal("117.610000"),
        "cum_quantity": Decimal("100.0000"),
        "executed_at": EXECUTED,
    }
    return {**row, **changes}


def test_an_activity_id_is_alpacas_time_and_uuid_and_names_its_row_back() -> None:
    text = activities.activity_id(987_654_321, EXECUTED)

    assert text.startswith("20260105153406977::")
    assert activities.activity_key(text) == 987_654_321


@pytest.mark.parametrize(
    "token",
    [
        "",
        "20260105153406977",
        "2026010515340697::5a17e9c3-b2d4-8000-8000-000000000007",
        "20260105153406977::not-a-uuid",
        "20260105153406977::" + str(order_uuid(7)),  # an order id, not an activity's
        "20260105153406977::5a17e9c3-b2d4-8000-8000-000000000000",  # key 0
    ],
)
def test_a_page_token_that_is_no_activity_of_ours_names_no_row(token: str) -> None:
    assert activities.activity_key(token) is None


def test_a_fill_that_leaves_shares_is_a_partial_fill_and_alpaca_py_parses_it() -> None:
    out = activities.fill_out(stored_fill(), Decimal("250"))

    assert out == {
        "id": activities.activity_id(7, EXECUTED),
        "account_id": out["account_id"],
        "activity_type": "FILL",
        "transaction_time": EXECUTED,
        "type": "partial_fill",
        "price": "117.61",
        "qty": "100",
        "side": "buy",
        "symbol": "XOM",
        "leaves_qty": "150",
        "cum_qty": "100",
        "order_id": str(order_uuid(123456789)),
        "order_status": "partially_filled",
    }
    parsed = TradeActivity(**out)
    assert (parsed.type, parsed.leaves_qty, parsed.cum_qty) == (
        TradeActivityType.PARTIAL_FILL,
        150.0,
        100.0,
    )


def test_the_fill_that_completes_its_order_is_a_fill_with_nothing_left() -> None:
    out = activities.fill_out(stored_fill(side="SELL", cum_quantity=Decimal("250")), Decimal("250"))

    assert (out["type"], out["leaves_qty"], out["order_status"], out["side"]) == (
        "fill",
        "0",
        "filled",
        "sell",
    )


def test_a_fill_whose_order_is_not_stored_says_unknown_rather_than_guessing() -> None:
    out = activities.fill_out(stored_fill(), None)

    assert (out["type"], out["leaves_qty"], out["order_status"]) == (None, None, None)
    assert out["cum_qty"] == "100"


def test_types_alpaca_has_that_ib_cannot_report_are_refused_by_name() -> None:
    activities.types_check(["FILL"])
    with pytest.raises(activities.ActivityTypeUnavailable, match=r"^DIV, FEE: Only FILL"):
        activities.types_check(["FILL", "DIV", "FEE"])
    with pytest.raises(activities.ActivityTypeUnknown, match="NOPE is not an activity type"):
        activities.types_check(["NOPE", "DIV"])


POSITION = {"symbol": "WMT", "qty": "6", "side": "long"}


@pytest.mark.parametrize(
    ("qty", "percentage", "shares"),
    [(None, None, 6), (Decimal(4), None, 4), (None, Decimal(50), 3), (None, Decimal(100), 6)],
)
def test_a_close_asks_for_whole_shares_of_the_position(
    qty: Decimal | None, percentage: Decimal | None, shares: int
) -> None:
    assert close_quantity(position=POSITION, qty=qty, percentage=percentage) == shares


def test_a_short_position_closes_by_its_size() -> None:
    assert close_quantity(position={"symbol": "DIS", "qty": "-5", "side": "short"}) == 5


@pytest.mark.parametrize(
    ("qty", "percentage", "error", "message"),
    [
        (None, Decimal(25), CloseQuantityFractional, "closing 1.5 of WMT would need a fraction"),
        (Decimal("2.5"), None, CloseQuantityFractional, "closing 2.5 of WMT"),
        (None, Decimal(10), CloseQuantityFractional, "closing 0.6 of WMT"),
        (Decimal(7), None, CloseQuantityExceeds, r"\(requested: 7, available: 6\)"),
    ],
)
def test_a_close_that_needs_a_fraction_or_more_than_the_position_is_refused(
    qty: Decimal | None, percentage: Decimal | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        close_quantity(position=POSITION, qty=qty, percentage=percentage)


def test_the_pnl_section_carries_ibs_figures_and_none_where_ib_reported_none() -> None:
    ib = IB()  # not connected: its wrapper holds the subscriptions' PnL objects
    assert pnl_section(ib, "DU1234567") is None
    ib.wrapper.reqId2PnL[1] = PnL("DU1234567", "", -12.5, math.nan, UNSET_DOUBLE)

    assert pnl_section(ib, "DU1234567") == {
        "account": "DU1234567",
        "daily": -12.5,
        "unrealized": None,
        "realized": None,
    }


@pytest.mark.parametrize(
    ("params", "valid"),
    [
        ({"qty": "4"}, {"qty": Decimal(4)}),
        ({"percentage": "12.5"}, {"percentage": Decimal("12.5")}),
        ({}, {}),
    ],
)
def test_a_close_takes_qty_or_percentage_as_decimals(
    params: dict[str, str], valid: dict[str, Decimal]
) -> None:
    form = AlpacaClosePositionQuery(data=params)

    assert form.is_valid(), form.errors
    assert dict(form.validated_data) == valid


@pytest.mark.parametrize(
    "params",
    [{"qty": "\x84"}, {"qty": "0"}, {"qty": "-1"}, {"qty": "1e3"}, {"percentage": "100.5"}],
)
def test_a_close_refuses_what_is_not_a_positive_plain_decimal_as_invalid_input(
    params: dict[str, str],
) -> None:
    """Regression: a qty that was no number at all (``"\\x84"``) was a 500
    (Decimal() ran before the pattern), found by the contract test."""
    form = AlpacaClosePositionQuery(data=params)

    assert not form.is_valid()
    assert set(form.errors) == set(params)

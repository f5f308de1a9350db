"""The legs the worker sends for each kind of order request."""

from __future__ import annotations

import itertools
import sys

import pytest

from trading.gateway.order_building import change_refusal, modified
from trading.gateway.orders import build_orders


def build(kind: str, **data: object) -> list:
    ids = itertools.count(41)
    return build_orders(kind, data, account="DU1", next_id=lambda: next(ids))


def test_a_limit_order_is_one_day_leg_with_its_price_and_ref() -> None:
    (order,) = build("limit", action="BUY", quantity=10, limit_price=230.0, order_ref="x")

    assert (order.orderType, order.action, order.totalQuantity, order.lmtPrice) == (
        "LMT",
        "BUY",
        10,
        230.0,
    )
    assert (order.tif, order.orderRef, order.account, order.orderId) == ("DAY", "x", "DU1", 41)
    assert order.transmit


def test_market_and_stop_orders() -> None:
    (market,) = build("market", action="SELL", quantity=5)
    (stop,) = build("stop", action="SELL", quantity=5, stop_price=225.0)

    assert (market.orderType, market.action, market.orderRef) == ("MKT", "SELL", "")
    assert (stop.orderType, stop.auxPrice) == ("STP", 225.0)


def test_a_bracket_is_parent_stop_loss_take_profit_with_rising_ids_and_one_transmit() -> None:
    parent, stop_loss, take_profit = build(
        "bracket", action="BUY", quantity=10, entry_price=230.0, stop_loss=225.0, take_profit=240.0
    )

    assert [o.orderId for o in (parent, stop_loss, take_profit)] == [41, 42, 43]
    assert [o.transmit for o in (parent, stop_loss, take_profit)] == [False, False, True]
    assert (parent.orderType, parent.action, parent.lmtPrice) == ("LMT", "BUY", 230.0)
    assert (stop_loss.orderType, stop_loss.action, stop_loss.auxPrice) == ("STP", "SELL", 225.0)
    assert (take_profit.orderType, take_profit.action, take_profit.lmtPrice) == (
        "LMT",
        "SELL",
        240.0,
    )
    assert stop_loss.parentId == take_profit.parentId == 41
    assert {o.tif for o in (parent, stop_loss, take_profit)} == {"DAY"}


def test_a_sell_bracket_exits_with_buys() -> None:
    _, stop_loss, take_profit = build(
        "bracket", action="SELL", quantity=1, entry_price=230.0, stop_loss=235.0, take_profit=220.0
    )

    assert (stop_loss.action, take_profit.action) == ("BUY", "BUY")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown order kind"):
        build("iceberg", action="BUY", quantity=1)


# --- modifications --------------------------------------------------------------------

UNSET = sys.float_info.max  # IB's unset double


def test_a_modification_is_a_copy_with_the_same_order_id_and_the_changes() -> None:
    (order,) = build("limit", action="BUY", quantity=10, limit_price=230.0, order_ref="x")

    new = modified(order, {"quantity": 12, "limit_price": 231.5, "tif": "GTC", "order_ref": "y"})

    assert (new.orderId, new.totalQuantity, new.lmtPrice, new.tif, new.orderRef) == (
        41,
        12,
        231.5,
        "GTC",
        "y",
    )
    assert (order.totalQuantity, order.lmtPrice, order.tif, order.orderRef) == (10, 230, "DAY", "x")


def test_a_trailing_stop_changes_its_amount_or_its_percent() -> None:
    (order,) = build("trailing_stop", action="SELL", quantity=5, trail_percent=5.0)

    by_amount = modified(order, {"trail_price": 2.5})
    by_percent = modified(order, {"trail_percent": 8.0})

    assert (by_amount.auxPrice, by_amount.trailingPercent) == (2.5, UNSET)
    assert (by_percent.trailingPercent, by_percent.auxPrice) == (8.0, UNSET)


@pytest.mark.parametrize(
    ("kind", "prices", "changes", "refusal"),
    [
        ("market", {}, {"limit_price": 1.0}, "limit_price does not apply to an order of type MKT"),
        ("limit", {"limit_price": 9.0}, {"stop_price": 1.0}, "stop_price does not apply"),
        ("stop", {"stop_price": 9.0}, {"trail_price": 1.0}, "trail_price does not apply"),
        ("limit", {"limit_price": 9.0}, {"account": "DU2"}, "cannot change account"),
        ("stop_limit", {"stop_price": 9.0, "limit_price": 9.1}, {"limit_price": 9.2}, ""),
    ],
)
def test_what_a_modification_may_change(
    kind: str, prices: dict[str, float], changes: dict[str, object], refusal: str
) -> None:
    (order,) = build(kind, action="BUY", quantity=1, **prices)

    assert change_refusal(order, changes).startswith(refusal)
    assert bool(change_refusal(order, changes)) == bool(refusal)

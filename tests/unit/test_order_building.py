"""The legs the worker sends for each kind of order request."""

from __future__ import annotations

import itertools

import pytest

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

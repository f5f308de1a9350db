"""Modifications (the same orderId re-sent) and order groups with partial
fills: a quantity below what has filled is refused and the order works on;
a partial fill of an OCA member of type 2 or 3, or of a bracket exit,
reduces the others; a partial fill of a bracket parent starts its children
for the part; brackets keep working with a trailing exit.
`set_liquidity shares=100` puts 100 shares on every price level, so a BUY
limit at the ask (236.43) takes 100 and rests with the rest."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.support import AAPL_ASK, ErrorLog, stock, wait_status, wait_until


def _row(sim: RunningSimulator, trade: Any) -> dict[str, Any]:
    [row] = [o for o in sim.call("orders") if o["order_id"] == trade.order.orderId]
    return row


def _wait_quantity(ib: Any, sim: RunningSimulator, trade: Any, quantity: float) -> None:
    wait_until(
        ib,
        lambda: trade.order.totalQuantity == quantity and _row(sim, trade)["quantity"] == quantity,
        what=f"order {trade.order.orderId} to be for {quantity} (is {_row(sim, trade)})",
    )


def test_a_modification_reprices_a_working_trailing_stop(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.Order(action="SELL", totalQuantity=10, orderType="TRAIL", auxPrice=1.0, tif="DAY")
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")
    assert _row(sim, trade)["trail_stop_price"] == 235.42

    order.auxPrice = 2.0  # wider: the stop moves back, away from the market
    ib.placeOrder(stock(api), order)

    wait_until(ib, lambda: _row(sim, trade)["trail_stop_price"] == 234.42, what="the new stop")
    sim.call("set_price", symbol="AAPL", price=235.0)  # through the old stop, not the new
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.call("set_price", symbol="AAPL", price=234.4)  # quoted 234.39 x 234.41
    wait_status(ib, trade, "Filled")
    assert trade.fills[-1].execution.price == 234.39


def test_a_quantity_below_the_filled_amount_is_refused_and_the_order_works_on(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    order = api.LimitOrder("BUY", 300, AAPL_ASK)
    trade = ib.placeOrder(stock(api), order)
    wait_until(ib, lambda: trade.orderStatus.filled == 100, what="the first 100")

    order.totalQuantity = 50
    ib.placeOrder(stock(api), order)

    _, _, message = errors.wait_for(ib, 201, order.orderId)
    assert message == (
        "Order rejected - reason:"
        "The order quantity cannot be reduced below the filled quantity 100."
    )
    wait_status(ib, trade, "Submitted")  # ib_async marks it Cancelled until this status
    assert (trade.orderStatus.filled, trade.orderStatus.remaining) == (100, 200)
    assert (_row(sim, trade)["quantity"], _row(sim, trade)["status"]) == (300, "Submitted")


@pytest.mark.parametrize(("oca_type", "left"), [(1, 300), (2, 200), (3, 200)])
def test_a_partial_fill_of_an_oca_member_reduces_the_others_of_types_2_and_3(
    ib: Any, api: ModuleType, sim: RunningSimulator, oca_type: int, left: float
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    resting = ib.placeOrder(
        stock(api), api.LimitOrder("BUY", 300, 230.0, ocaGroup="g", ocaType=oca_type)
    )
    wait_status(ib, resting, "Submitted")

    taking = ib.placeOrder(
        stock(api), api.LimitOrder("BUY", 300, AAPL_ASK, ocaGroup="g", ocaType=oca_type)
    )

    wait_until(ib, lambda: taking.orderStatus.filled == 100, what="the partial fill")
    _wait_quantity(ib, sim, resting, left)
    assert resting.orderStatus.status == "Submitted"


def test_a_partial_fill_of_a_bracket_parent_starts_its_children_for_the_part(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    parent, take_profit, stop_loss = ib.bracketOrder(
        "BUY", 300, limitPrice=AAPL_ASK, takeProfitPrice=240.0, stopLossPrice=230.0
    )
    trades = [ib.placeOrder(stock(api), leg) for leg in (parent, take_profit, stop_loss)]

    wait_until(ib, lambda: trades[0].orderStatus.filled == 100, what="the parent's first 100")
    wait_status(ib, trades[1], "Submitted")  # working, for the 100 bought
    _wait_quantity(ib, sim, trades[1], 100)
    _wait_quantity(ib, sim, trades[2], 100)
    assert trades[2].orderStatus.status == "PreSubmitted"  # a stop, waiting for 230
    assert trades[0].orderStatus.remaining == 200


def test_a_partial_fill_of_a_bracket_exit_reduces_the_other_exit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    parent, take_profit, stop_loss = ib.bracketOrder(
        "BUY", 10, limitPrice=237.0, takeProfitPrice=240.0, stopLossPrice=230.0
    )
    trades = [ib.placeOrder(stock(api), leg) for leg in (parent, take_profit, stop_loss)]
    wait_status(ib, trades[0], "Filled")
    wait_status(ib, trades[1], "Submitted")
    sim.call("set_liquidity", symbol="AAPL", shares=4)

    sim.call("set_quote", symbol="AAPL", bid=240.0, ask=240.02)  # 4 shares at 240.00

    wait_until(ib, lambda: trades[1].orderStatus.filled == 4, what="4 of the take-profit")
    _wait_quantity(ib, sim, trades[2], 6)
    assert trades[2].orderStatus.status == "PreSubmitted"


def test_a_bracket_with_a_trailing_stop_exit_trails_once_the_parent_fills(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    parent, take_profit, stop_loss = ib.bracketOrder(
        "BUY", 10, limitPrice=237.0, takeProfitPrice=245.0, stopLossPrice=1.0
    )
    stop_loss.orderType = "TRAIL"  # auxPrice 1.0: the trailing amount
    trades = [ib.placeOrder(stock(api), leg) for leg in (parent, take_profit, stop_loss)]
    wait_status(ib, trades[0], "Filled")

    sim.call("set_price", symbol="AAPL", price=238.0)  # the stop follows to 237.00
    wait_until(ib, lambda: _row(sim, trades[2])["trail_stop_price"] == 237.0, what="the ratchet")
    sim.call("set_price", symbol="AAPL", price=236.9)  # quoted 236.89 x 236.91

    wait_status(ib, trades[2], "Filled")
    assert trades[2].fills[-1].execution.price == 236.89
    wait_status(ib, trades[1], "Cancelled")

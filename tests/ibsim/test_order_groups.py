"""Orders that work as a group: legs held by transmit=0 until the group is
transmitted, and OCA groups of types 2 and 3 (type 1: test_orders.py).

IB's rule for every OCA type: when an order of the group fills completely,
the others are cancelled; types 2 and 3 reduce the others only on partial
fills (which the simulator does not make).  Types 1 and 2 route one order at
a time ("block", overfill protection); type 3 does not, so orders that become
marketable at the same moment all fill."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import AAPL_ASK, stock, wait_status, wait_until


def _row(sim: RunningSimulator, trade: Any) -> dict[str, Any]:
    [row] = [o for o in sim.call("orders") if o["order_id"] == trade.order.orderId]
    return row


# --- transmit=0 ------------------------------------------------------------------


def test_legs_sent_with_transmit_0_are_held_until_the_last_leg_transmits(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    master = clients.connect(lib, 0)
    # The entry is marketable (limit above the ask): only the hold keeps it from filling.
    parent, take_profit, stop_loss = ib.bracketOrder(
        "BUY", 10, limitPrice=237.0, takeProfitPrice=240.0, stopLossPrice=230.0
    )
    assert (parent.transmit, take_profit.transmit, stop_loss.transmit) == (False, False, True)
    held = [ib.placeOrder(stock(api), leg) for leg in (parent, take_profit)]
    ib.sleep(0.3)

    assert [t.orderStatus.status for t in held] == ["PendingSubmit", "PendingSubmit"]
    assert [(_row(sim, t)["held"], _row(sim, t)["filled"]) for t in held] == [
        (True, 0.0),
        (True, 0.0),
    ]
    assert sim.call("executions") == []
    assert master.reqAllOpenOrders() == []  # nothing was sent for them

    last = ib.placeOrder(stock(api), stop_loss)

    wait_status(ib, held[0], "Filled")
    assert held[0].fills[0].execution.price == AAPL_ASK
    wait_status(ib, held[1], "Submitted")
    wait_status(ib, last, "PreSubmitted")


def test_a_held_order_works_once_resent_with_transmit_1(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.LimitOrder("BUY", 1, 237.0, transmit=False)
    trade = ib.placeOrder(stock(api), order)
    ib.sleep(0.3)
    assert trade.orderStatus.status == "PendingSubmit"
    assert _row(sim, trade)["held"] is True

    order.transmit = True
    ib.placeOrder(stock(api), order)

    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.price == AAPL_ASK
    assert sim.call("counters")["orders_total"] == 1


# --- OCA types 2 and 3 -------------------------------------------------------------


@pytest.mark.parametrize("oca_type", [2, 3])
def test_a_complete_fill_cancels_the_rest_of_the_group(
    ib: Any, api: ModuleType, sim: RunningSimulator, oca_type: int
) -> None:
    orders = ib.oneCancelsAll(
        [api.LimitOrder("BUY", 4, 230.0), api.LimitOrder("BUY", 10, 228.0)], "oca-fill", oca_type
    )
    first, second = (ib.placeOrder(stock(api), order) for order in orders)
    wait_status(ib, second, "Submitted")

    sim.call("set_price", symbol="AAPL", price=229.5)  # the ask (229.51) reaches 230 only

    wait_status(ib, first, "Filled")
    wait_status(ib, second, "Cancelled")
    assert second.order.totalQuantity == 10  # cancelled, not reduced to 6
    assert second.fills == []
    assert _row(sim, second)["status"] == "Cancelled"
    assert sim.call("positions")["AAPL"]["quantity"] == 4


def test_oca_type_2_blocks_a_second_order_marketable_at_the_same_moment(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    orders = ib.oneCancelsAll(
        [api.LimitOrder("BUY", 4, 230.0), api.LimitOrder("BUY", 10, 229.0)], "oca-block", 2
    )
    first, second = (ib.placeOrder(stock(api), order) for order in orders)
    wait_status(ib, second, "Submitted")

    sim.call("set_price", symbol="AAPL", price=228.0)  # both limits marketable at once

    wait_status(ib, first, "Filled")
    wait_status(ib, second, "Cancelled")
    assert [e["order_id"] for e in sim.call("executions")] == [first.order.orderId]
    assert sim.call("positions")["AAPL"]["quantity"] == 4


def test_oca_type_3_fills_every_order_marketable_at_the_same_moment(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    orders = ib.oneCancelsAll(
        [
            api.LimitOrder("BUY", 4, 230.0),
            api.LimitOrder("BUY", 10, 229.0),
            api.LimitOrder("BUY", 5, 220.0),
        ],
        "oca-no-block",
        3,
    )
    first, second, third = (ib.placeOrder(stock(api), order) for order in orders)
    wait_status(ib, third, "Submitted")

    sim.call("set_price", symbol="AAPL", price=228.0)  # the first two marketable at once

    wait_status(ib, first, "Filled")
    wait_status(ib, second, "Filled")
    wait_status(ib, third, "Cancelled")
    assert [(f.execution.shares, f.execution.price) for f in first.fills + second.fills] == [
        (4, 230.0),
        (10, 229.0),
    ]
    # No overfill protection: 14 shares bought by a group meant to buy at most 10.
    wait_until(ib, lambda: sim.call("positions")["AAPL"]["quantity"] == 14, what="14 shares")

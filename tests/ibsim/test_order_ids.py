"""Order ids and OCA groups: an order joining a group that already filled,
and an order id used before."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.support import stock, wait_status


def test_order_joining_a_filled_oca_group_is_cancelled(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    first = api.LimitOrder("BUY", 1, 240.0, ocaGroup="late-oca", ocaType=1)
    filled = ib.placeOrder(stock(api), first)
    wait_status(ib, filled, "Filled")

    late = ib.placeOrder(
        stock(api), api.LimitOrder("BUY", 1, 200.0, ocaGroup="late-oca", ocaType=1)
    )

    wait_status(ib, late, "Cancelled")
    assert [o["status"] for o in sim.call("orders") if o["order_id"] == late.order.orderId] == [
        "Cancelled"
    ]


def test_an_order_id_used_before_gets_error_103(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, *args: errors.append(code)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1))
    wait_status(ib, trade, "Filled")
    sim.call("restart", downtime=0.2)  # the session forgets the filled order
    ib.disconnect()
    ib.sleep(0.5)
    ib.connect("127.0.0.1", sim.port, clientId=trade.order.clientId, timeout=5)

    ib.client.placeOrder(trade.order.orderId, stock(api), api.LimitOrder("BUY", 1, 200.0))
    ib.sleep(0.3)

    assert 103 in errors
    assert sim.call("counters")["orders_total"] == 1

"""Commissions as IB's fixed pricing for US stocks, over the socket: USD 0.005
a share, at least USD 1.00 and at most 1% of the trade value — per order, not
per execution.  An order filled in several executions is charged what its
running total owes: the first execution carries the minimum, later ones what
their shares add beyond it.  A modified order is billed as a new order (IB's
rule for the minimum).  One-execution orders: tests/ibsim/test_orders.py."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.support import AAPL_ASK, stock, wait_status, wait_until


def _commissions(ib: Any, trade: Any, count: int) -> list[float]:
    wait_until(
        ib,
        lambda: len(trade.fills) == count and all(f.commissionReport.execId for f in trade.fills),
        what=f"{count} commission reports",
    )
    return [f.commissionReport.commission for f in trade.fills]


def test_the_minimum_is_per_order_and_the_first_execution_carries_it(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 300, tif="DAY"))
    wait_status(ib, trade, "Filled")
    # 100 shares owe the minimum (1.00); 200 still 1.00; 300 owe 1.50.
    assert _commissions(ib, trade, 3) == [1.0, 0.0, 0.5]
    assert [e["commission"] for e in sim.call("executions")] == [1.0, 0.0, 0.5]
    cost = 100 * AAPL_ASK + 100 * 236.44 + 100 * 236.45
    assert sim.call("account")["TotalCashValue"] == f"{1_000_000 - cost - 1.5:.2f}"


def test_the_maximum_is_one_percent_of_the_orders_value(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_price", symbol="AAPL", price=5.0)  # quoted 5.00 x 5.01
    sim.call("set_liquidity", symbol="AAPL", shares=10)
    trade = ib.placeOrder(stock(api), api.MarketOrder("SELL", 15, tif="DAY"))
    wait_status(ib, trade, "Filled")
    # 10 at 5.00 and 5 at 4.99: USD 74.95 of stock, 1% of it in all.
    assert _commissions(ib, trade, 2) == [0.5, 0.2495]


def test_a_modified_order_is_billed_as_a_new_order(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    order = api.LimitOrder("BUY", 300, AAPL_ASK, tif="DAY")
    trade = ib.placeOrder(stock(api), order)
    wait_until(ib, lambda: trade.orderStatus.filled == 100, what="the first level")
    order.lmtPrice = 236.44
    ib.placeOrder(stock(api), order)  # meets the book again as a new order: 236.43, 236.44
    wait_status(ib, trade, "Filled")
    # Its own minimum again after the modification (0.50 more than unmodified).
    assert _commissions(ib, trade, 3) == [1.0, 1.0, 0.0]


def test_an_order_working_on_a_later_day_is_billed_as_a_new_order(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_clock", time="2026-03-04T15:00:00")  # a Wednesday
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, AAPL_ASK, tif="GTC"))
    wait_until(ib, lambda: trade.orderStatus.filled == 100, what="Wednesday's part")
    sim.call("advance_clock", seconds=19 * 3600)  # Thursday 10:00: it works again, as new
    wait_until(ib, lambda: trade.orderStatus.filled == 200, what="Thursday's part")
    # Thursday's first execution carries a minimum of its own (IB: an order
    # that persists overnight counts as a new order).
    assert _commissions(ib, trade, 2) == [1.0, 1.0]

"""Buying power, over the socket: the margin account's one model (initial =
maintenance = 25% of the gross position value, equity with loan value = net
liquidation), an order after which the initial margin would exceed the equity
with loan value refused with IB's error 201 wording, short sales allowed, and
an order that reduces the requirement let through even from a deficit."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.support import (
    AAPL_ASK,
    AAPL_START,
    ErrorLog,
    stock,
    wait_status,
    wait_until,
)

CASH = 10_000.0


def _refusal(equity: float, init: float) -> str:
    return (
        "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED "
        f"POSITION YOUR EQUITY WITH LOAN VALUE [{equity:.2f} USD] MUST EXCEED THE INITIAL "
        f"MARGIN [{init:.2f} USD]"
    )


def _wait_ended(ib: Any, trade: Any) -> None:
    """A rejected order ends Inactive (ib_async and ib_insync mark it
    Cancelled on the error that comes first)."""
    wait_until(
        ib,
        lambda: trade.orderStatus.status in ("Inactive", "Cancelled"),
        what="the rejected order to end",
    )


def test_an_order_beyond_the_buying_power_is_rejected_with_ibs_wording(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_cash", cash=CASH)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 200, tif="DAY"))
    # After it: 200 AAPL valued at the last (236.42), bought at the ask, USD 1 commission.
    equity = CASH - 200 * AAPL_ASK - 1.0 + 200 * AAPL_START
    init = 0.25 * 200 * AAPL_START
    oid = trade.order.orderId
    assert errors.wait_for(ib, 201, oid) == (oid, 201, _refusal(equity, init))
    _wait_ended(ib, trade)
    assert trade.fills == []
    assert sim.call("orders") == []
    assert sim.call("account")["TotalCashValue"] == f"{CASH:.2f}"


def test_an_order_within_the_buying_power_is_accepted(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_cash", cash=CASH)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 160, tif="DAY"))
    wait_status(ib, trade, "Filled")
    account = sim.call("account")
    assert account["InitMarginReq"] == f"{0.25 * 160 * AAPL_START:.2f}"  # 9,456.80
    assert float(account["EquityWithLoanValue"]) > float(account["InitMarginReq"])


def test_a_short_sale_is_allowed_in_the_margin_account(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.MarketOrder("SELL", 100, tif="DAY"))
    wait_status(ib, trade, "Filled")
    assert sim.call("positions")["AAPL"]["quantity"] == -100
    account = sim.call("account")
    assert account["InitMarginReq"] == f"{0.25 * 100 * AAPL_START:.2f}"
    assert account["GrossPositionValue"] == f"{100 * AAPL_START:.2f}"


def test_an_order_reducing_the_requirement_passes_from_a_margin_deficit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_position", symbol="AAPL", quantity=1000, avg_cost=AAPL_START)
    sim.call("set_cash", cash=-230_000.0)  # equity 6,420 against an initial margin of 59,105
    added = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1, tif="DAY"))
    errors.wait_for(ib, 201, added.order.orderId)
    reduced = ib.placeOrder(stock(api), api.MarketOrder("SELL", 100, tif="DAY"))
    wait_status(ib, reduced, "Filled")
    assert sim.call("positions")["AAPL"]["quantity"] == 900

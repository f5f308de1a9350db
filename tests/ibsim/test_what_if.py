"""What-if orders through ib_async's and ib_insync's `whatIfOrder`: an
openOrder whose OrderState carries the margin before, change and after, the
commission, its minimum and maximum and currency, from the account's one
margin model and the per-order commission rule; no order is created; the
numbers are those a real order placed after it makes the account move by;
one the account could not take is answered, then refused with error 201;
an empty TIF draws warning 10349, which both clients take for the request's
failure (as against a paper gateway: pass tif="DAY")."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.support import (
    AAPL_ASK,
    AAPL_START,
    START_CASH,
    ErrorLog,
    stock,
    wait_status,
    wait_until,
)

MARGIN_FIELDS = ("initMargin", "maintMargin", "equityWithLoan")


def _numbers(state: Any) -> dict[str, float]:
    """The margin fields (text, as IB sends them) as numbers."""
    return {
        f"{name}{part}": float(getattr(state, f"{name}{part}"))
        for name in MARGIN_FIELDS
        for part in ("Before", "Change", "After")
    }


def test_what_if_answers_margin_and_commission_and_creates_no_order(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    state = ib.whatIfOrder(stock(api), api.MarketOrder("BUY", 100, tif="DAY"))
    init = 0.25 * 100 * AAPL_START  # 5,910.50
    equity_change = 100 * (AAPL_START - AAPL_ASK) - 1.0  # bought at the ask, USD 1 commission
    assert state.status == "PreSubmitted"
    assert (state.initMarginBefore, state.initMarginChange, state.initMarginAfter) == (
        "0.00",
        f"{init:.2f}",
        f"{init:.2f}",
    )
    assert (state.maintMarginBefore, state.maintMarginChange, state.maintMarginAfter) == (
        "0.00",
        f"{init:.2f}",
        f"{init:.2f}",
    )
    assert (
        state.equityWithLoanBefore,
        state.equityWithLoanChange,
        state.equityWithLoanAfter,
    ) == (f"{START_CASH:.2f}", f"{equity_change:.2f}", f"{START_CASH + equity_change:.2f}")
    assert (state.commission, state.minCommission, state.maxCommission) == (1.0, 1.0, 1.0)
    assert (state.commissionCurrency, state.warningText) == ("USD", "")
    # Nothing was placed: no order, no trade, no execution.
    ib.sleep(0.1)
    assert sim.call("orders") == []
    assert ib.openTrades() == []
    assert sim.call("executions") == []
    assert sim.call("counters")["orders_total"] == 0


def test_what_if_numbers_are_what_the_order_then_does_to_the_account(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)  # 300 walk three levels
    sim.call("set_position", symbol="MSFT", quantity=-50, avg_cost=415.10)  # a short already
    order = api.MarketOrder("BUY", 300, tif="DAY")
    state = ib.whatIfOrder(stock(api), order)
    before = sim.call("account")
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: len(trade.fills) == 3 and trade.fills[2].commissionReport.execId)
    after = sim.call("account")
    numbers = _numbers(state)
    for name, tag in (
        ("initMargin", "InitMarginReq"),
        ("maintMargin", "MaintMarginReq"),
        ("equityWithLoan", "EquityWithLoanValue"),
    ):
        assert numbers[f"{name}Before"] == float(before[tag])
        assert numbers[f"{name}After"] == pytest.approx(float(after[tag]), abs=0.011)
        assert numbers[f"{name}Change"] == pytest.approx(
            float(after[tag]) - float(before[tag]), abs=0.011
        )
    assert state.commission == sum(f.commissionReport.commission for f in trade.fills) == 1.5


def test_a_short_sale_what_if_adds_margin_on_the_short(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_position", symbol="AAPL", quantity=100, avg_cost=AAPL_START)
    state = ib.whatIfOrder(stock(api), api.LimitOrder("SELL", 300, 230.0, tif="DAY"))
    # From long 100 to short 200: the gross value doubles.  A limit is priced
    # at the market, as IB prices a what-if.
    assert float(state.initMarginBefore) == pytest.approx(0.25 * 100 * AAPL_START)
    assert float(state.initMarginAfter) == pytest.approx(0.25 * 200 * AAPL_START)
    assert state.commission == 1.5


def test_a_what_if_beyond_the_buying_power_is_answered_then_refused(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_cash", cash=10_000.0)
    state = ib.whatIfOrder(stock(api), api.MarketOrder("BUY", 200, tif="DAY"))
    assert state.initMarginAfter == f"{0.25 * 200 * AAPL_START:.2f}"  # 11,821.00
    assert state.equityWithLoanAfter == "9997.00"
    _, _, message = errors.wait_for(ib, 201)
    assert message.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.")
    assert "[9997.00 USD] MUST EXCEED THE INITIAL MARGIN [11821.00 USD]" in message
    assert sim.call("orders") == []


def test_a_what_if_without_tif_draws_10349_and_the_clients_give_up(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    answer = ib.whatIfOrder(stock(api), api.MarketOrder("BUY", 10))
    assert answer == []  # the clients end the request on the error
    assert errors.find(10349) is not None
    assert sim.call("orders") == []

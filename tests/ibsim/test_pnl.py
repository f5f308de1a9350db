"""reqPnL and reqPnLSingle over the socket: the account's and one position's
daily, unrealized and realized P&L from the ledger, pushed as prices move
(ibsim.pnl)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.support import AAPL_CON_ID, stock, wait_status, wait_until

ACCOUNT = "DU1234567"


def _figures(pnl: Any) -> tuple[float, float, float]:
    return (pnl.dailyPnL, pnl.unrealizedPnL, pnl.realizedPnL)


def test_req_pnl_reports_the_days_unrealized_and_realized_pnl_of_the_fills(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    # Bought 10 at the ask 236.43 (commission 1.00: average cost 236.53).
    wait_status(ib, ib.placeOrder(stock(api), api.MarketOrder("BUY", 10)), "Filled")
    pnl = ib.reqPnL(ACCOUNT)
    sim.call("set_price", symbol="AAPL", price=240.0)  # quoted 239.99 x 240.01
    # Sold 4 at the bid 239.99 (commission 1.00).
    wait_status(ib, ib.placeOrder(stock(api), api.MarketOrder("SELL", 4)), "Filled")

    # realized: 4 x (239.99 - 236.53) - 1.00; unrealized: 6 x (240 - 236.53);
    # daily: 10 x (240 - 236.43) - 1.00 - 4 x (240 - 239.99) - 1.00 (flat at the close).
    expected = (33.66, 20.82, 12.84)
    wait_until(ib, lambda: _figures(pnl) == expected, what=f"{expected} (got {_figures(pnl)})")


def test_req_pnl_single_values_a_position_held_since_the_previous_close(
    ib: Any, sim: RunningSimulator
) -> None:
    sim.call("set_position", symbol="AAPL", quantity=100, avg_cost=200.0)
    single = ib.reqPnLSingle(ACCOUNT, "", AAPL_CON_ID)
    # The previous close is the start price, 236.42.
    wait_until(ib, lambda: single.value == 23642.0, what=f"the first pnlSingle (got {single})")
    assert (single.position, *_figures(single)) == (100, 0.0, 3642.0, 0.0)

    sim.call("set_price", symbol="AAPL", price=240.0)

    wait_until(ib, lambda: single.value == 24000.0, what=f"an update (got {single})")
    assert (single.position, *_figures(single)) == (100, 358.0, 4000.0, 0.0)


def test_cancel_pnl_stops_the_updates(ib: Any, sim: RunningSimulator) -> None:
    sim.call("set_position", symbol="AAPL", quantity=100, avg_cost=200.0)
    pnl = ib.reqPnL(ACCOUNT)
    wait_until(ib, lambda: pnl.unrealizedPnL == 3642.0, what=f"the first pnl (got {pnl})")
    updates: list[Any] = []
    ib.pnlEvent += updates.append
    ib.cancelPnL(ACCOUNT)
    wait_until(ib, lambda: sim.call("counters")["pnl_subscriptions"] == 0, what="the cancel")

    sim.call("set_price", symbol="AAPL", price=240.0)
    ib.sleep(0.3)

    assert updates == []
    assert pnl.unrealizedPnL == 3642.0

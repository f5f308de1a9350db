"""The depth behind the touch and partial fills, over the socket: market and
marketable limit orders walking the price levels in several executions (each
with its execDetails, commissionReport and orderStatus), a limit resting with
what its limit left, a resting limit filled in parts as the price moves
through it, a market order meeting each quote once, and the default depth
that fills any order the guide places at once.

AAPL starts quoted 236.41 x 236.43; `set_liquidity shares=100` puts 100
shares on each level: 236.43, 236.44, 236.45 ... on the ask side, 236.41,
236.40 ... on the bid side."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.support import AAPL_ASK, AAPL_BID, stock, wait_status, wait_until


def _record_statuses(ib: Any, trade: Any) -> list[tuple[str, float, float, float]]:
    """Every (status, filled, remaining, avgFillPrice) the client's trade went
    through, without repeats."""
    seen: list[tuple[str, float, float, float]] = []

    def on_status(changed: Any) -> None:
        status = changed.orderStatus
        entry = (status.status, status.filled, status.remaining, status.avgFillPrice)
        if changed is trade and entry not in seen[-1:]:
            seen.append(entry)

    ib.orderStatusEvent += on_status
    return seen


def _match_again(ib: Any, api: ModuleType) -> None:
    """Another AAPL order (one that rests far below the market) makes the
    book match AAPL again at the same quote."""
    other = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 200.0, tif="DAY"))
    wait_status(ib, other, "Submitted")
    ib.sleep(0.1)


def _executions(trade: Any) -> list[tuple[float, float]]:
    return [(f.execution.shares, f.execution.price) for f in trade.fills]


def _wait_reports(ib: Any, trade: Any, count: int) -> None:
    wait_until(
        ib,
        lambda: len(trade.fills) == count and all(f.commissionReport.execId for f in trade.fills),
        what=f"{count} executions with their commission reports",
    )


def test_a_market_order_larger_than_the_touch_walks_up_the_asks_in_several_executions(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 250, tif="DAY"))
    statuses = _record_statuses(ib, trade)
    wait_status(ib, trade, "Filled")
    _wait_reports(ib, trade, 3)
    assert _executions(trade) == [(100, AAPL_ASK), (100, 236.44), (50, 236.45)]
    assert [f.execution.cumQty for f in trade.fills] == [100, 200, 250]
    assert [f.execution.avgPrice for f in trade.fills] == [236.43, 236.435, 236.438]
    # Each execution its own commissionReport, keyed by its execId.
    assert [f.commissionReport.execId for f in trade.fills] == [
        f.execution.execId for f in trade.fills
    ]
    assert len({f.execution.execId for f in trade.fills}) == 3
    # An orderStatus after each: still working (Submitted) until the last.
    assert [s for s in statuses if s[1] > 0] == [
        ("Submitted", 100, 150, 236.43),
        ("Submitted", 200, 50, 236.435),
        ("Filled", 250, 0, 236.438),
    ]
    assert sim.call("positions")["AAPL"]["quantity"] == 250


def test_a_market_sell_walks_down_the_bids(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.MarketOrder("SELL", 150, tif="DAY"))
    wait_status(ib, trade, "Filled")
    _wait_reports(ib, trade, 2)
    assert _executions(trade) == [(100, AAPL_BID), (50, 236.40)]
    assert {f.execution.side for f in trade.fills} == {"SLD"}
    assert trade.orderStatus.avgFillPrice == round((100 * AAPL_BID + 50 * 236.40) / 150, 6)


def test_a_marketable_limit_stops_at_its_limit_and_rests_with_the_remainder(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, 236.44, tif="DAY"))
    wait_until(ib, lambda: trade.orderStatus.filled == 200, what="two levels filled")
    _wait_reports(ib, trade, 2)
    assert _executions(trade) == [(100, AAPL_ASK), (100, 236.44)]
    assert trade.orderStatus.status == "Submitted"
    assert trade.orderStatus.remaining == 100
    _match_again(ib, api)  # the same quote has nothing more for it
    assert trade.orderStatus.filled == 200
    [order] = [o for o in sim.call("orders") if o["order_id"] == trade.order.orderId]
    assert (order["status"], order["filled"], order["resting"]) == ("Submitted", 200, True)


def test_a_resting_limit_fills_in_parts_as_the_price_moves_through_it(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, 235.0, tif="DAY"))
    statuses = _record_statuses(ib, trade)
    wait_status(ib, trade, "Submitted")
    sim.call("set_price", symbol="AAPL", price=234.99)  # quoted 234.98 x 235.00: one level
    wait_until(ib, lambda: trade.orderStatus.filled == 100, what="the first part")
    _match_again(ib, api)
    assert trade.orderStatus.status == "Submitted"
    assert trade.orderStatus.filled == 100
    sim.call("set_price", symbol="AAPL", price=234.98)  # 234.97 x 234.99: two levels within
    wait_status(ib, trade, "Filled")
    _wait_reports(ib, trade, 2)
    # A resting limit fills at its limit (IB's paper trader), in parts.
    assert _executions(trade) == [(100, 235.0), (200, 235.0)]
    assert [s for s in statuses if s[1] > 0] == [
        ("Submitted", 100, 200, 235.0),
        ("Filled", 300, 0, 235.0),
    ]


def test_a_market_order_meets_each_quote_once(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=10)  # ten levels: 100 shares a quote
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 150, tif="DAY"))
    wait_until(ib, lambda: trade.orderStatus.filled == 100, what="the ten levels shown")
    _match_again(ib, api)
    assert trade.orderStatus.status == "Submitted"
    assert trade.orderStatus.filled == 100
    assert _executions(trade)[-1] == (10, 236.52)
    sim.call("set_price", symbol="AAPL", price=236.50)  # a new quote: 236.49 x 236.51
    wait_status(ib, trade, "Filled")
    assert _executions(trade)[10:] == [(10, round(236.51 + 0.01 * k, 2)) for k in range(5)]


def test_the_default_depth_fills_a_large_order_at_the_touch_at_once(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    quote = sim.call("quote", symbol="AAPL")
    assert quote["liquidity"] is None
    assert quote["ask_size"] < 5000  # what the quote displays does not limit a fill
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 5000, tif="DAY"))
    wait_status(ib, trade, "Filled")
    assert _executions(trade) == [(5000, AAPL_ASK)]


def test_set_liquidity_shows_on_the_quote_and_back_to_the_default(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    quote = sim.call("set_liquidity", symbol="AAPL", shares=300)
    assert (quote["bid_size"], quote["ask_size"], quote["liquidity"]) == (300, 300, 300)
    sim.call("set_price", symbol="AAPL", price=236.50)  # trades keep the sizes
    assert sim.call("quote", symbol="AAPL")["ask_size"] == 300
    ticker = ib.reqMktData(ib.qualifyContracts(stock(api))[0])
    wait_until(ib, lambda: ticker.askSize == 300 and ticker.bidSize == 300, what="sizes")
    assert sim.call("set_liquidity", symbol="AAPL")["liquidity"] is None
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1000, tif="DAY"))
    wait_status(ib, trade, "Filled")
    assert len(trade.fills) == 1


def test_reset_brings_back_the_default_depth(sim: RunningSimulator) -> None:
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    sim.call("reset")
    assert sim.call("quote", symbol="AAPL")["liquidity"] is None

"""Quotes and market data over the socket: reqTickers (snapshots), reqMktData
streams and their cancellation, market data types (live, delayed), the
errors a paper gateway answers, and orders filled against the quote."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import (
    AAPL_ASK,
    AAPL_BID,
    AAPL_START,
    ErrorLog,
    stock,
    wait_status,
    wait_until,
)

# What the clients record: bid, ask, last (+ its size), high, low, volume,
# close, open.  The bid and ask sizes also arrive as tickSize 0 and 3 (69, 70),
# which both libraries drop when they repeat the size of the tickPrice before.
LIVE_TICKS = {1, 2, 4, 5, 6, 7, 8, 9, 14}
DELAYED_TICKS = {66, 67, 68, 71, 72, 73, 74, 75, 76}


def _qualified(ib: Any, api: ModuleType, symbol: str = "AAPL") -> Any:
    [contract] = ib.qualifyContracts(stock(api, symbol))
    return contract


class TickTypes:
    """The tick types each client delivers (its pendingTickersEvent)."""

    def __init__(self, ib: Any) -> None:
        self.seen: set[int] = set()
        ib.pendingTickersEvent += self.on_tickers

    def on_tickers(self, tickers: Any) -> None:
        for ticker in tickers:
            self.seen.update(tick.tickType for tick in ticker.ticks)


# --- snapshots --------------------------------------------------------------------


def test_req_tickers_returns_bid_ask_last_and_close(
    ib: Any, api: ModuleType, lib: str, sim: RunningSimulator
) -> None:
    ticks = TickTypes(ib)
    contract = _qualified(ib, api)

    [ticker] = ib.reqTickers(contract)  # returns on tickSnapshotEnd

    assert (ticker.bid, ticker.ask, ticker.last, ticker.close) == (
        AAPL_BID,
        AAPL_ASK,
        AAPL_START,
        AAPL_START,
    )
    assert (ticker.high, ticker.low) == (AAPL_START, AAPL_START)
    quote = sim.call("quote", symbol="AAPL")
    assert (ticker.bidSize, ticker.askSize) == (quote["bid_size"], quote["ask_size"])
    assert ticker.bidSize > 0
    assert ticker.bidSize % 100 == 0  # round lots, in shares
    assert (ticker.lastSize, ticker.volume) == (quote["last_size"], quote["volume"])
    assert ticker.marketDataType == 1
    assert ticker.minTick == 0.01
    assert ticks.seen == LIVE_TICKS
    if lib == "ib_async":  # ib_insync 0.9.86 ignores tickString 45
        assert abs(ticker.lastTimestamp - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    assert sim.call("counters")["market_data_lines"] == 0  # a snapshot holds no line


def test_req_tickers_async_returns_the_quote_set_price_moved(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    msft, intc = _qualified(ib, api, "MSFT"), _qualified(ib, api, "INTC")
    sim.call("set_price", symbol="MSFT", price=420.0)

    tickers = ib.run(ib.reqTickersAsync(msft, intc))

    # The spread by price level: a cent per USD 100 of price, at least a cent.
    assert [(t.contract.symbol, t.bid, t.ask, t.last) for t in tickers] == [
        ("MSFT", 419.98, 420.02, 420.0),
        ("INTC", 22.35, 22.36, 22.35),
    ]


def test_set_quote_is_what_clients_see_and_what_market_orders_fill_at(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_quote", symbol="AAPL", bid=230.0, ask=230.5, bid_size=200, ask_size=700)
    [ticker] = ib.reqTickers(_qualified(ib, api))
    assert (ticker.bid, ticker.bidSize, ticker.ask, ticker.askSize) == (230.0, 200, 230.5, 700)

    buy = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10))
    sell = ib.placeOrder(stock(api), api.MarketOrder("SELL", 10))

    wait_status(ib, buy, "Filled")
    wait_status(ib, sell, "Filled")
    assert buy.fills[0].execution.price == 230.5  # the ask
    assert sell.fills[0].execution.price == 230.0  # the bid


def test_a_marketable_limit_takes_the_touch_never_worse_than_its_limit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_quote", symbol="AAPL", bid=230.0, ask=230.5)

    through = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 231.0))
    inside = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 230.25))

    wait_status(ib, through, "Filled")
    assert through.fills[0].execution.price == 230.5
    wait_status(ib, inside, "Submitted")  # inside the spread: it rests
    sim.call("set_quote", symbol="AAPL", bid=229.9, ask=230.2)
    wait_status(ib, inside, "Filled")
    assert inside.fills[0].execution.price == 230.25  # resting: at its limit


def test_snapshot_with_generic_ticks_is_refused(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    ticker = ib.reqMktData(_qualified(ib, api), "233", snapshot=True)
    _, _, message = errors.wait_for(ib, 321)
    assert "Snapshot market data subscription is not applicable to generic ticks" in message
    assert math.isnan(ticker.bid)


# --- streams ------------------------------------------------------------------------


def _no_ticks_for_unknown_requests(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Unknown reqId" in r.getMessage()]


def test_streaming_ticks_follow_the_price_until_cancelled(
    ib: Any, api: ModuleType, sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    contract = _qualified(ib, api)
    ticker = ib.reqMktData(contract)
    wait_until(ib, lambda: ticker.ask == AAPL_ASK, what="the first ticks")
    volume = ticker.volume
    assert sim.call("counters")["market_data_lines"] == 1

    sim.call("set_price", symbol="AAPL", price=240.0)

    wait_until(ib, lambda: ticker.last == 240.0, what="the new last price")
    wait_until(ib, lambda: (ticker.bid, ticker.ask) == (239.99, 240.01), what="the new quote")
    assert ticker.volume > volume
    assert ticker.high == 240.0

    ib.cancelMktData(contract)
    wait_until(ib, lambda: sim.call("counters")["market_data_lines"] == 0, what="the cancel")
    sim.call("set_price", symbol="AAPL", price=241.0)
    ib.sleep(0.3)
    assert _no_ticks_for_unknown_requests(caplog) == []  # nothing sent after the cancel
    assert ticker.last == 240.0


def test_streaming_ticks_follow_the_walk(
    sim_factory: Callable[..., RunningSimulator], clients: Clients, lib: str, api: ModuleType
) -> None:
    walking = sim_factory(walk=True, tick_interval=0.05)
    ib = clients.connect(lib, 1, sim=walking)
    ticker = ib.reqMktData(_qualified(ib, api, "SPY"))
    seen: set[float] = set()

    def moved_four_times() -> bool:
        if not math.isnan(ticker.last):
            seen.add(ticker.last)
        return len(seen) >= 4

    wait_until(ib, moved_four_times, timeout=5, what="the walk's prices")
    walking.call("walk", on=False)
    ib.sleep(0.3)
    quote = walking.call("quote", symbol="SPY")
    assert (ticker.bid, ticker.ask, ticker.last) == (quote["bid"], quote["ask"], quote["last"])
    assert (ticker.bidSize, ticker.askSize) == (quote["bid_size"], quote["ask_size"])
    assert ticker.volume == quote["volume"]
    assert quote["bid"] < quote["last"] < quote["ask"]


def test_cancelling_a_finished_snapshot_answers_300(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    req_id = ib.client.getReqId()
    ib.client.reqMktData(req_id, _qualified(ib, api), "", True, False, [])
    ib.sleep(0.2)
    ib.client.cancelMktData(req_id)
    _, _, message = errors.wait_for(ib, 300, req_id)
    assert message == f"Can't find EId with tickerId:{req_id}"


# --- market data types and permissions ------------------------------------------------


def test_delayed_data_without_live_permissions(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("market_data", live=False)
    sim.call("set_price", symbol="AAPL", price=240.0)  # 15 minutes ago it was the start quote
    errors = ErrorLog.attach(ib)
    ticks = TickTypes(ib)
    ib.reqMarketDataType(3)

    [ticker] = ib.reqTickers(_qualified(ib, api))

    assert ticker.marketDataType == 3
    assert (ticker.bid, ticker.ask, ticker.last, ticker.close) == (
        AAPL_BID,
        AAPL_ASK,
        AAPL_START,
        AAPL_START,
    )
    assert ticks.seen == DELAYED_TICKS
    assert 10167 in errors.codes()  # "Displaying delayed market data", a warning


def test_delayed_stream_follows_the_quote_after_the_delay(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("market_data", live=False, delay=0.5)
    ib.reqMarketDataType(3)
    ticker = ib.reqMktData(_qualified(ib, api))
    wait_until(ib, lambda: ticker.last == AAPL_START, what="the delayed ticks")

    sim.call("set_price", symbol="AAPL", price=240.0)
    ib.sleep(0.2)
    assert ticker.last == AAPL_START  # not yet: the data is 0.5 s behind

    wait_until(ib, lambda: ticker.last == 240.0, timeout=3, what="the delayed new price")
    assert (ticker.bid, ticker.ask) == (239.99, 240.01)
    assert ticker.marketDataType == 3


def test_live_permissions_serve_live_data_whatever_the_type(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    ticks = TickTypes(ib)
    ib.reqMarketDataType(3)

    [ticker] = ib.reqTickers(_qualified(ib, api))

    assert ticker.marketDataType == 1  # IB ignores "delayed" when live data is there
    assert ticks.seen == LIVE_TICKS


def test_live_data_without_permissions_is_refused_with_10089(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("market_data", live=False)
    errors = ErrorLog.attach(ib)

    [ticker] = ib.reqTickers(_qualified(ib, api, "KO"))

    _, _, message = errors.wait_for(ib, 10089)
    assert message.endswith("Delayed market data is available.KO NYSE/TOP/ALL")
    assert math.isnan(ticker.bid)


def test_a_regulatory_snapshot_is_live_without_permissions(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("market_data", live=False)

    [ticker] = ib.reqTickers(_qualified(ib, api), regulatorySnapshot=True)

    assert ticker.marketDataType == 1
    assert (ticker.bid, ticker.ask) == (AAPL_BID, AAPL_ASK)


def test_unknown_symbol_answers_error_200(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    req_id = ib.client.getReqId()

    ib.client.reqMktData(req_id, stock(api, "NOSUCHSYM"), "", False, False, [])

    _, _, message = errors.wait_for(ib, 200, req_id)
    assert message == "No security definition has been found for the request"
    assert sim.call("counters")["market_data_lines"] == 0


# --- the control commands ---------------------------------------------------------------


def test_set_quote_refuses_a_crossed_quote(sim: RunningSimulator) -> None:
    with pytest.raises(Exception, match="the ask must be above the bid"):
        sim.call("set_quote", symbol="AAPL", bid=230.5, ask=230.0)
    assert sim.call("quote", symbol="AAPL")["bid"] == AAPL_BID


def test_reset_puts_the_quotes_back(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    ticker = ib.reqMktData(_qualified(ib, api))
    sim.call("set_price", symbol="AAPL", price=240.0)
    wait_until(ib, lambda: ticker.last == 240.0, what="the new price")

    sim.call("reset")

    wait_until(ib, lambda: (ticker.bid, ticker.ask) == (AAPL_BID, AAPL_ASK), what="the reset")
    assert ticker.last == AAPL_START

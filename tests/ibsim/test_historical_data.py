"""reqHistoricalData over the socket: bars built from the simulator's own
trades and clock (ibsim.bars), sessions and useRTH, the quote-side bars,
keepUpToDate, and IB's pacing error 162 (ibsim.history)."""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.support import ErrorLog, stock, wait_until

EASTERN = ZoneInfo("US/Eastern")
PACING = "Historical Market Data Service error message:Historical data request pacing violation"


def _bars(
    ib: Any,
    api: ModuleType,
    duration: str,
    size: str,
    what: str = "TRADES",
    rth: bool = True,
    **kw: Any,
) -> list[Any]:
    return list(ib.reqHistoricalData(stock(api), "", duration, size, what, rth, **kw))


def _local(bar: Any) -> dt.datetime:
    return bar.date.astimezone(EASTERN).replace(tzinfo=None)  # type: ignore[no-any-return]


def test_minute_bars_end_at_the_simulated_now_and_hold_its_trades(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_clock", time="2026-03-04T11:00:00")  # a Wednesday
    for price in (241.0, 239.0, 240.0):
        sim.call("set_price", symbol="AAPL", price=price)

    bars = _bars(ib, api, "3600 S", "1 min")

    assert len(bars) == 61
    assert _local(bars[0]) == dt.datetime(2026, 3, 4, 10, 0)
    assert _local(bars[-1]) == dt.datetime(2026, 3, 4, 11, 0)
    assert [_local(b) for b in bars] == [
        dt.datetime(2026, 3, 4, 10, 0) + dt.timedelta(minutes=n) for n in range(61)
    ]
    last = bars[-1]
    # Its high is a trade of the tape (the past before the jump stays within
    # about 1.2% of 236.42); its close the last.
    assert (last.high, last.close) == (241.0, 240.0)
    assert last.low <= 239.0
    assert last.barCount >= 3
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


@pytest.mark.parametrize(
    ("rth", "first", "count"),
    [(True, dt.datetime(2026, 3, 3, 9, 30), 9), (False, dt.datetime(2026, 3, 3, 4, 0), 23)],
)
def test_use_rth_keeps_the_bars_inside_the_regular_session(
    ib: Any, api: ModuleType, sim: RunningSimulator, rth: bool, first: dt.datetime, count: int
) -> None:
    sim.call("set_clock", time="2026-03-04T10:00:00")

    bars = _bars(ib, api, "2 D", "1 hour", rth=rth)

    times = [_local(b) for b in bars]
    assert (times[0], times[-1], len(times)) == (first, dt.datetime(2026, 3, 4, 10, 0), count)
    if rth:
        assert all(dt.time(9, 30) <= t.time() < dt.time(16, 0) for t in times)
    else:
        assert all(dt.time(4, 0) <= t.time() < dt.time(20, 0) for t in times)


def test_daily_bars_are_one_per_trading_day_and_skip_holidays(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_clock", time="2026-01-21T12:00:00")  # Monday the 19th: Martin Luther King Day
    sim.call("set_price", symbol="AAPL", price=238.0)

    bars = _bars(ib, api, "5 D", "1 day")

    assert [b.date for b in bars] == [dt.date(2026, 1, d) for d in (14, 15, 16, 20, 21)]
    assert bars[-1].close == 238.0


@pytest.mark.parametrize(("what", "close"), [("BID", 239.99), ("ASK", 240.01), ("MIDPOINT", 240.0)])
def test_quote_bars_follow_the_spread_around_the_trades(
    ib: Any, api: ModuleType, sim: RunningSimulator, what: str, close: float
) -> None:
    sim.call("set_price", symbol="AAPL", price=240.0)  # quoted 239.99 x 240.01

    bars = _bars(ib, api, "600 S", "1 min", what)

    assert bars[-1].close == close
    assert (bars[-1].volume, bars[-1].barCount) == (-1, -1)


def test_an_identical_request_within_15_seconds_is_a_pacing_violation(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    assert _bars(ib, api, "600 S", "1 min") != []

    assert _bars(ib, api, "600 S", "1 min") == []

    assert [(code, text) for _, code, text in errors.entries if code == 162] == [(162, PACING)]
    assert _bars(ib, api, "600 S", "5 mins") != []  # a different request is served


def test_the_61st_request_within_ten_minutes_is_a_pacing_violation(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    for n in range(60):
        assert _bars(ib, api, f"{60 + n} S", "1 min") != [], f"request {n + 1}"
    assert errors.find(162) is None

    assert _bars(ib, api, "3600 S", "1 min") == []

    assert errors.find(162) is not None
    assert errors.find(162)[2] == PACING  # type: ignore[index]
    assert sim.call("counters")["historical_pacing_errors"] == 1


def test_keep_up_to_date_updates_the_running_bar_as_prices_move(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    bars = ib.reqHistoricalData(stock(api), "", "600 S", "1 min", "TRADES", True, keepUpToDate=True)
    assert len(bars) > 0

    sim.call("set_price", symbol="AAPL", price=237.77)

    wait_until(ib, lambda: bars[-1].close == 237.77, what=f"an update (last bar {bars[-1]})")
    ib.cancelHistoricalData(bars)

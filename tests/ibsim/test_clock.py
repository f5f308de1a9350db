"""The clock and the calendar: the open and wall modes, the sessions of a
trading day (weekends, holidays, early closes), the clock commands, and the
simulated time as clients see it (reqCurrentTime, execution times)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from ibsim import sessions
from ibsim.__main__ import parse_args
from ibsim.control import CommandError, ControlClient
from ibsim.testing import RunningSimulator
from tests.ibsim.support import stock, wait_status, wait_until
from tests.ibsim.test_cli import ROOT, _run

EST = dt.timezone(dt.timedelta(hours=-5))


def _eastern(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(sessions.EASTERN)


# --- modes ---------------------------------------------------------------------------------


def test_the_default_clock_is_the_wall_time_in_a_market_that_never_closes(
    sim: RunningSimulator,
) -> None:
    clock = sim.call("clock")
    assert abs(_eastern(clock["now"]).timestamp() - time.time()) < 2
    assert clock["session"] == "regular"  # whatever the hour, day or holiday
    assert (clock["next_open"], clock["next_close"]) == (None, None)
    assert (clock["mode"], clock["moved"]) == ("open", False)


def test_the_wall_clock_follows_the_real_calendar(
    sim_factory: Callable[..., RunningSimulator],
) -> None:
    sim = sim_factory(clock="wall")
    clock = sim.call("clock")
    now = _eastern(clock["now"])
    assert abs(now.timestamp() - time.time()) < 2
    assert clock["session"] == sessions.session_at(now)
    assert _eastern(clock["next_open"]) == sessions.next_open(now)
    assert _eastern(clock["next_close"]) == sessions.next_close(now)
    assert (clock["mode"], clock["moved"]) == ("wall", False)


def test_the_command_line_chooses_the_clock() -> None:
    assert parse_args([]).clock == "open"
    with pytest.raises(SystemExit):
        parse_args(["--clock", "lunar"])
    args = ["-m", "ibsim", "--no-walk", "--port", "0", "--control-port", "0", "--clock", "wall"]
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = re.search(r"control=[\d.]+:(\d+)", proc.stdout.readline())
        assert ready, "ibsim did not start"
        clock = ControlClient(port=int(ready[1])).call("clock")
        assert (clock["mode"], clock["moved"]) == ("wall", False)
    finally:
        proc.terminate()
        proc.wait(10)


# --- set_clock and the calendar --------------------------------------------------------------


def test_set_clock_jumps_and_the_clock_runs_on_in_real_time(sim: RunningSimulator) -> None:
    clock = sim.call("set_clock", time="2026-03-04T10:00:00")  # a Wednesday, in EST
    assert clock["now"] == "2026-03-04T10:00:00-05:00"
    assert clock["session"] == "regular"
    assert clock["next_close"] == "2026-03-04T16:00:00-05:00"
    assert clock["next_open"] == "2026-03-05T09:30:00-05:00"
    assert (clock["mode"], clock["moved"]) == ("open", True)
    time.sleep(1.1)
    later = _eastern(sim.call("clock")["now"])
    assert dt.datetime(2026, 3, 4, 10, 0, 1, tzinfo=EST) <= later
    assert later < dt.datetime(2026, 3, 4, 10, 0, 5, tzinfo=EST)


@pytest.mark.parametrize(
    ("when", "session"),
    [
        ("2026-03-04T03:59:59", "closed"),  # overnight
        ("2026-03-04T04:00:00", "pre-market"),
        ("2026-03-04T09:29:59", "pre-market"),
        ("2026-03-04T09:30:00", "regular"),
        ("2026-03-04T15:59:59", "regular"),
        ("2026-03-04T16:00:00", "after-hours"),
        ("2026-03-04T19:59:59", "after-hours"),
        ("2026-03-04T20:00:00", "closed"),
        ("2026-03-07T12:00:00", "closed"),  # Saturday
        ("2026-03-08T12:00:00", "closed"),  # Sunday
        ("2026-07-03T12:00:00", "closed"),  # Independence Day (observed)
        ("2025-01-09T12:00:00", "closed"),  # National Day of Mourning
        ("2027-03-26T12:00:00", "closed"),  # Good Friday
        ("2026-11-27T12:59:59", "regular"),  # the day after Thanksgiving: early close
        ("2026-11-27T13:00:00", "after-hours"),
        ("2026-11-27T16:59:59", "after-hours"),
        ("2026-11-27T17:00:00", "closed"),
        ("2026-03-09T09:30:00", "regular"),  # the first Monday of daylight saving time
        ("2026-03-09T13:30:00Z", "regular"),  # = 09:30 EDT
        ("2026-03-09T13:29:59Z", "pre-market"),
    ],
)
def test_sessions_follow_the_calendar_in_us_eastern(
    sim: RunningSimulator, when: str, session: str
) -> None:
    assert sim.call("set_clock", time=when)["session"] == session


@pytest.mark.parametrize(
    ("when", "next_open", "next_close"),
    [
        # Friday evening: Monday.
        ("2026-03-06T17:00:00", "2026-03-09T09:30:00-04:00", "2026-03-09T16:00:00-04:00"),
        # Before a holiday weekend: the Monday after Independence Day (observed).
        ("2026-07-02T16:30:00", "2026-07-06T09:30:00-04:00", "2026-07-06T16:00:00-04:00"),
        # An early close.
        ("2026-11-27T10:00:00", "2026-11-30T09:30:00-05:00", "2026-11-27T13:00:00-05:00"),
        # Christmas Eve (early close) to the day after Christmas.
        ("2026-12-24T14:00:00", "2026-12-28T09:30:00-05:00", "2026-12-28T16:00:00-05:00"),
    ],
)
def test_the_clock_names_the_next_open_and_close(
    sim: RunningSimulator, when: str, next_open: str, next_close: str
) -> None:
    clock = sim.call("set_clock", time=when)
    assert (clock["next_open"], clock["next_close"]) == (next_open, next_close)


def test_set_clock_refuses_what_is_not_iso_8601(sim: RunningSimulator) -> None:
    with pytest.raises(CommandError) as refused:
        sim.call("set_clock", time="next tuesday")
    assert "ISO 8601" in str(refused.value)
    assert sim.call("clock")["moved"] is False


# --- advance_clock -----------------------------------------------------------------------------


def test_advance_clock_fires_every_session_event_on_the_way_in_order(
    sim: RunningSimulator,
) -> None:
    sim.call("set_clock", time="2026-03-06T03:00:00")  # Friday, before the pre-market
    moved = sim.call("advance_clock", seconds=78 * 3600)  # Monday 10:00 EDT (DST began)
    assert moved["now"].startswith("2026-03-09T10:00:00")
    assert moved["session"] == "regular"
    assert moved["events"] == [
        {"at": "2026-03-06T04:00:00-05:00", "event": "pre-market opens"},
        {"at": "2026-03-06T09:30:00-05:00", "event": "opening auction"},
        {"at": "2026-03-06T16:00:00-05:00", "event": "close"},
        {"at": "2026-03-06T20:00:00-05:00", "event": "after-hours end"},
        # Nothing on the weekend; Monday is in daylight saving time.
        {"at": "2026-03-09T04:00:00-04:00", "event": "pre-market opens"},
        {"at": "2026-03-09T09:30:00-04:00", "event": "opening auction"},
    ]


def test_advance_clock_skips_holidays_and_keeps_early_closes(sim: RunningSimulator) -> None:
    sim.call("set_clock", time="2026-11-25T21:00:00")  # the eve of Thanksgiving
    moved = sim.call("advance_clock", seconds=2 * 86400)
    assert [(e["at"][11:16], e["event"]) for e in moved["events"]] == [
        ("04:00", "pre-market opens"),  # Friday the 27th; Thursday is a holiday
        ("09:30", "opening auction"),
        ("13:00", "close"),
        ("17:00", "after-hours end"),
    ]
    assert {e["at"][:10] for e in moved["events"]} == {"2026-11-27"}


def test_advance_clock_moves_only_forward(sim: RunningSimulator) -> None:
    with pytest.raises(CommandError) as refused:
        sim.call("advance_clock", seconds=-60)
    assert str(refused.value) == "seconds must be zero or more (the clock only moves forward)"


def test_advancing_the_open_clock_puts_it_on_the_calendar(sim: RunningSimulator) -> None:
    moved = sim.call("advance_clock", seconds=3600)
    now = _eastern(moved["now"])
    assert abs(now.timestamp() - (time.time() + 3600)) < 2
    assert moved["session"] == sessions.session_at(now)
    assert moved["next_open"] is not None
    assert moved["moved"] is True


def test_reset_puts_the_clock_back_as_it_started(sim: RunningSimulator) -> None:
    sim.call("set_clock", time="2026-03-07T12:00:00")  # Saturday: closed
    sim.call("reset")
    clock = sim.call("clock")
    assert (clock["session"], clock["moved"], clock["next_close"]) == ("regular", False, None)
    assert abs(_eastern(clock["now"]).timestamp() - time.time()) < 2


def test_ctl_drives_the_clock(sim: RunningSimulator) -> None:
    port = str(sim.control_port)
    result = _run("-m", "ibsim.ctl", "--port", port, "set_clock", "time=2026-03-04T15:59:00")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["session"] == "regular"
    result = _run("-m", "ibsim.ctl", "--port", port, "advance_clock", "seconds=120")
    assert result.returncode == 0, result.stderr
    moved = json.loads(result.stdout)
    assert moved["session"] == "after-hours"
    assert moved["events"] == [{"at": "2026-03-04T16:00:00-05:00", "event": "close"}]
    result = _run("-m", "ibsim.ctl", "--port", port, "clock")
    assert json.loads(result.stdout)["now"].startswith("2026-03-04T16:01:0")


# --- the time clients see --------------------------------------------------------------------


def test_req_current_time_answers_the_simulated_time(ib: Any, sim: RunningSimulator) -> None:
    sim.call("set_clock", time="2026-03-04T10:00:00")
    answered = ib.reqCurrentTime()
    expected = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
    assert expected <= answered < expected + dt.timedelta(seconds=3)


def test_execution_times_follow_the_clock(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    sim.call("set_clock", time="2026-03-04T10:00:00")
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10, tif="DAY"))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: trade.fills and trade.fills[0].commissionReport.execId)
    execution = trade.fills[0].execution
    filled_at = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)
    assert filled_at <= execution.time < filled_at + dt.timedelta(seconds=3)
    assert trade.fills[0].commissionReport.execId == execution.execId
    # reqExecutions' time filter reads the same clock.
    before = api.ExecutionFilter(time="20260304 09:59:00 US/Eastern")
    after = api.ExecutionFilter(time="20260304 10:05:00 US/Eastern")
    assert [f.execution.execId for f in ib.reqExecutions(before)] == [execution.execId]
    assert ib.reqExecutions(after) == []
    # The completed order's time (completedOrder's completedTime) too.
    [row] = sim.call("orders")
    assert row["completed_time"].startswith("20260304 10:00:0")
    assert row["completed_time"].endswith(" US/Eastern")


def test_quotes_do_not_move_while_the_market_is_closed(
    sim_factory: Callable[..., RunningSimulator],
) -> None:
    sim = sim_factory(walk=True, tick_interval=0.05)
    sim.call("set_clock", time="2026-03-04T21:00:00")
    closed = sim.call("prices")
    time.sleep(0.4)
    assert sim.call("prices") == closed
    sim.call("set_clock", time="2026-03-05T04:30:00")  # pre-market trades
    deadline = time.monotonic() + 3
    while sim.call("prices") == closed:
        assert time.monotonic() < deadline, "prices did not move in the pre-market"
        time.sleep(0.05)

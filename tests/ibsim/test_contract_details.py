"""Contract details' trading hours (tradingHours, liquidHours, timeZoneId)
follow the simulated clock and the calendar, as a real gateway's follow the
date and the exchange's calendar; read through the clients' own parsers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ibsim import hours, sessions
from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import stock


def _details(ib: Any, api: ModuleType, symbol: str = "SPY") -> Any:
    [details] = ib.reqContractDetails(stock(api, symbol))
    return details


def _eastern(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.strptime(f"{day} {hhmm}", "%Y-%m-%d %H:%M").replace(tzinfo=sessions.EASTERN)


def test_hours_on_the_calendar_name_each_day_from_the_gateways_date(
    sim: RunningSimulator, clients: Clients, api: ModuleType, lib: str
) -> None:
    # Wednesday 2026-11-25: Thanksgiving (26th) is a holiday, the 27th closes at 13:00.
    sim.call("set_clock", time="2026-11-25T10:00:00")
    ib = clients.connect(lib)
    details = _details(ib, api)
    assert details.timeZoneId == "US/Eastern"
    assert details.liquidHours == (
        "20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300;"
        "20261128:CLOSED;20261129:CLOSED;20261130:0930-20261130:1600;"
        "20261201:0930-20261201:1600"
    )
    assert details.tradingHours == (
        "20261125:0400-20261125:2000;20261126:CLOSED;20261127:0400-20261127:1700;"
        "20261128:CLOSED;20261129:CLOSED;20261130:0400-20261130:2000;"
        "20261201:0400-20261201:2000"
    )
    if lib == "ib_async":  # ib_async parses them into sessions (ib_insync 0.9.86 cannot)
        liquid = [(s.start, s.end) for s in details.liquidSessions()]
        assert liquid[:2] == [
            (_eastern("2026-11-25", "09:30"), _eastern("2026-11-25", "16:00")),
            (_eastern("2026-11-27", "09:30"), _eastern("2026-11-27", "13:00")),
        ]
        assert len(liquid) == 4


def test_hours_move_with_the_clock(sim: RunningSimulator, clients: Clients) -> None:
    sim.call("set_clock", time="2027-12-23T12:00:00")
    ib = clients.connect("ib_async")
    api = __import__("ib_async")
    first = _details(ib, api)
    assert first.liquidHours.startswith("20271223:0930-20271223:1600;20271224:CLOSED;")
    sim.call("advance_clock", seconds=3 * 86400)  # to Sunday the 26th
    later = _details(ib, api)
    assert later.liquidHours.startswith("20271226:CLOSED;20271227:0930-20271227:1600;")


def test_the_open_clock_trades_around_the_clock_every_day(
    sim: RunningSimulator, clients: Clients
) -> None:
    ib = clients.connect("ib_async")
    api = __import__("ib_async")
    details = _details(ib, api, "AAPL")
    today = dt.datetime.now(sessions.EASTERN).date()
    entries = details.liquidHours.split(";")
    assert details.tradingHours == details.liquidHours
    assert len(entries) == hours.DAYS
    for n, entry in enumerate(entries):
        day = today + dt.timedelta(days=n)
        assert entry == f"{day:%Y%m%d}:0000-{day + dt.timedelta(days=1):%Y%m%d}:0000"
    sessions_ = details.liquidSessions()
    assert sessions_[0].start == dt.datetime.combine(today, dt.time(0), sessions.EASTERN)


def test_the_wall_clock_gives_the_real_calendar(
    sim_factory: Callable[..., RunningSimulator],
) -> None:
    sim = sim_factory(clock="wall")
    pool = Clients(sim)
    try:
        ib = pool.connect("ib_async")
        details = _details(ib, __import__("ib_async"))
    finally:
        pool.close_all()
    expected = hours.hours(dt.datetime.now(dt.UTC), calendar=True)
    assert (details.tradingHours, details.liquidHours) == expected

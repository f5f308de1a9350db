"""A contract's trading hours as IB's contract details state them
(``tradingHours``, ``liquidHours``, in the contract's ``timeZoneId``,
US/Eastern here), following the simulated clock and calendar.  Pure.

IB's text is one entry a day, ``;``-separated, from the gateway's current
date on: ``20240722:0400-20240722:2000`` for a day with a session (start and
end each ``YYYYMMDD:HHMM``; a session may end on a later date), and
``20240721:CLOSED`` for a day without one (ib_async's
``ContractDetails.tradingSessions()`` reads exactly this).

- On the calendar (the `wall` clock, or a clock that was moved): trading
  hours are the extended sessions, 04:00-20:00 (17:00 on an early close);
  liquid hours the regular session, 09:30-16:00 (13:00); weekends and NYSE
  holidays are CLOSED (ibsim.sessions).
- On the `open` clock the market is in its regular session at every hour
  of every day, so each day is one session from midnight to midnight, in
  both texts: what the simulator does, not what NYSE does.
"""

from __future__ import annotations

import datetime as dt

from ibsim import sessions

DAYS = 7  # the current date and the six after it


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(sessions.EASTERN).strftime("%Y%m%d:%H%M")


def _entry(day: dt.date, start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return f"{day:%Y%m%d}:CLOSED"
    return f"{_stamp(start)}-{_stamp(end)}"


def hours(now: dt.datetime, calendar: bool, days: int = DAYS) -> tuple[str, str]:
    """``(tradingHours, liquidHours)`` from the date of `now` (US/Eastern) on."""
    first = now.astimezone(sessions.EASTERN).date()
    trading: list[str] = []
    liquid: list[str] = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        if not calendar:
            start = dt.datetime.combine(day, dt.time(0, 0), sessions.EASTERN)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), sessions.EASTERN)
            trading.append(_entry(day, start, end))
            liquid.append(_entry(day, start, end))
            continue
        trading_day = sessions.trading_day(day)
        if trading_day is None:
            trading.append(_entry(day, None, None))
            liquid.append(_entry(day, None, None))
            continue
        trading.append(_entry(day, trading_day.pre_market, trading_day.after_hours_end))
        liquid.append(_entry(day, trading_day.open, trading_day.close))
    return ";".join(trading), ";".join(liquid)

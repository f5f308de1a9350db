"""The US equity market's calendar, in US/Eastern: pre-market 04:00-09:30,
regular hours 09:30-16:00, after-hours 16:00-20:00, closed overnight, on
weekends and on NYSE holidays.  On early-close days the regular session ends
at 13:00 and after-hours at 17:00.  Pure: dates and times in, names out.

The holidays and early closes are NYSE's for 2025-2027; outside those years
every weekday is a trading day.  Also IB's time text ("YYYYMMDD HH:MM:SS
[zone]", "YYYYMMDD-HH:MM:SS" in UTC), read by ExecutionFilter.time and
goodTillDate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

EASTERN = ZoneInfo("US/Eastern")

PRE_MARKET = "pre-market"
REGULAR = "regular"
AFTER_HOURS = "after-hours"
CLOSED = "closed"

# The boundaries of a trading day, by what happens there.
PRE_MARKET_OPENS = "pre-market opens"
OPENING_AUCTION = "opening auction"  # 09:30: the regular session opens
CLOSE = "close"  # 16:00 (13:00 early): the regular session ends
AFTER_HOURS_END = "after-hours end"  # 20:00 (17:00 early): the market closes

PRE_MARKET_START = dt.time(4, 0)
OPEN = dt.time(9, 30)
REGULAR_CLOSE = dt.time(16, 0)
EARLY_CLOSE = dt.time(13, 0)
AFTER_HOURS_CLOSE = dt.time(20, 0)
EARLY_AFTER_HOURS_CLOSE = dt.time(17, 0)

# NYSE holidays (the exchange is closed all day), as NYSE publishes them.
HOLIDAYS: dict[dt.date, str] = {
    dt.date(2025, 1, 1): "New Year's Day",
    dt.date(2025, 1, 9): "National Day of Mourning for President Carter",
    dt.date(2025, 1, 20): "Martin Luther King, Jr. Day",
    dt.date(2025, 2, 17): "Washington's Birthday",
    dt.date(2025, 4, 18): "Good Friday",
    dt.date(2025, 5, 26): "Memorial Day",
    dt.date(2025, 6, 19): "Juneteenth",
    dt.date(2025, 7, 4): "Independence Day",
    dt.date(2025, 9, 1): "Labor Day",
    dt.date(2025, 11, 27): "Thanksgiving Day",
    dt.date(2025, 12, 25): "Christmas Day",
    dt.date(2026, 1, 1): "New Year's Day",
    dt.date(2026, 1, 19): "Martin Luther King, Jr. Day",
    dt.date(2026, 2, 16): "Washington's Birthday",
    dt.date(2026, 4, 3): "Good Friday",
    dt.date(2026, 5, 25): "Memorial Day",
    dt.date(2026, 6, 19): "Juneteenth",
    dt.date(2026, 7, 3): "Independence Day (observed)",
    dt.date(2026, 9, 7): "Labor Day",
    dt.date(2026, 11, 26): "Thanksgiving Day",
    dt.date(2026, 12, 25): "Christmas Day",
    dt.date(2027, 1, 1): "New Year's Day",
    dt.date(2027, 1, 18): "Martin Luther King, Jr. Day",
    dt.date(2027, 2, 15): "Washington's Birthday",
    dt.date(2027, 3, 26): "Good Friday",
    dt.date(2027, 5, 31): "Memorial Day",
    dt.date(2027, 6, 18): "Juneteenth (observed)",
    dt.date(2027, 7, 5): "Independence Day (observed)",
    dt.date(2027, 9, 6): "Labor Day",
    dt.date(2027, 11, 25): "Thanksgiving Day",
    dt.date(2027, 12, 24): "Christmas Day (observed)",
}

# Early closes: regular hours end at 13:00, after-hours at 17:00.
EARLY_CLOSES: dict[dt.date, str] = {
    dt.date(2025, 7, 3): "the day before Independence Day",
    dt.date(2025, 11, 28): "the day after Thanksgiving",
    dt.date(2025, 12, 24): "Christmas Eve",
    dt.date(2026, 11, 27): "the day after Thanksgiving",
    dt.date(2026, 12, 24): "Christmas Eve",
    dt.date(2027, 11, 26): "the day after Thanksgiving",
}


@dataclass(frozen=True)
class TradingDay:
    """One trading day's boundaries, as aware datetimes in US/Eastern."""

    date: dt.date
    pre_market: dt.datetime
    open: dt.datetime
    close: dt.datetime
    after_hours_end: dt.datetime

    def boundaries(self) -> list[Boundary]:
        return [
            Boundary(self.pre_market, PRE_MARKET_OPENS, PRE_MARKET),
            Boundary(self.open, OPENING_AUCTION, REGULAR),
            Boundary(self.close, CLOSE, AFTER_HOURS),
            Boundary(self.after_hours_end, AFTER_HOURS_END, CLOSED),
        ]


@dataclass(frozen=True)
class Boundary:
    at: dt.datetime
    event: str  # PRE_MARKET_OPENS, OPENING_AUCTION, CLOSE, AFTER_HOURS_END
    session: str  # the session that starts here


def is_trading_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def trading_day(day: dt.date) -> TradingDay | None:
    """The day's boundaries, or None when the market does not open that day."""
    if not is_trading_day(day):
        return None
    early = day in EARLY_CLOSES

    def at(time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, EASTERN)

    return TradingDay(
        date=day,
        pre_market=at(PRE_MARKET_START),
        open=at(OPEN),
        close=at(EARLY_CLOSE if early else REGULAR_CLOSE),
        after_hours_end=at(EARLY_AFTER_HOURS_CLOSE if early else AFTER_HOURS_CLOSE),
    )


def session_at(when: dt.datetime) -> str:
    """The session in force at `when` (an aware datetime)."""
    local = when.astimezone(EASTERN)
    day = trading_day(local.date())
    if day is None or local < day.pre_market or local >= day.after_hours_end:
        return CLOSED
    if local < day.open:
        return PRE_MARKET
    if local < day.close:
        return REGULAR
    return AFTER_HOURS


def _days_from(when: dt.datetime, limit: int = 15) -> list[TradingDay]:
    """The trading days from the day before `when` on (the day before covers
    nothing today, but keeps the search simple across midnight and DST)."""
    first = when.astimezone(EASTERN).date() - dt.timedelta(days=1)
    days = (trading_day(first + dt.timedelta(days=n)) for n in range(limit))
    return [day for day in days if day is not None]


def boundaries(after: dt.datetime, until: dt.datetime) -> list[Boundary]:
    """Every boundary with after < at <= until, in time order."""
    found: list[Boundary] = []
    first = after.astimezone(EASTERN).date() - dt.timedelta(days=1)
    last = until.astimezone(EASTERN).date()
    day = first
    while day <= last:
        trading = trading_day(day)
        if trading is not None:
            found += [b for b in trading.boundaries() if after < b.at <= until]
        day += dt.timedelta(days=1)
    return found


def next_boundary(after: dt.datetime, event: str) -> dt.datetime:
    """The first boundary of kind `event` strictly after `after`."""
    for day in _days_from(after):
        for boundary in day.boundaries():
            if boundary.event == event and boundary.at > after:
                return boundary.at
    raise ValueError(f"no {event} within two weeks of {after}")  # never: no such gap


def next_open(after: dt.datetime) -> dt.datetime:
    """The next regular open (09:30 US/Eastern) strictly after `after`."""
    return next_boundary(after, OPENING_AUCTION)


def next_close(after: dt.datetime) -> dt.datetime:
    """The next end of regular hours (16:00, or 13:00 on an early close)."""
    return next_boundary(after, CLOSE)


def next_start(after: dt.datetime, sessions: tuple[str, ...]) -> dt.datetime:
    """When one of `sessions` next starts after `after` (now, when it is in force)."""
    if session_at(after) in sessions:
        return after
    for day in _days_from(after):
        for boundary in day.boundaries():
            if boundary.session in sessions and boundary.at > after:
                return boundary.at
    raise ValueError(f"none of {sessions} within two weeks of {after}")


def day_end(when: dt.datetime, outside_rth: bool) -> dt.datetime:
    """When a DAY order placed at `when` expires: the end of the first trading
    day still open to it — its close (16:00 or 13:00), or with outsideRth the
    end of its after-hours (20:00 or 17:00).  An order placed after that, at
    night or on a weekend or holiday, is for the next trading day."""
    for day in _days_from(when):
        end = day.after_hours_end if outside_rth else day.close
        if end > when:
            return end
    raise ValueError(f"no trading day within two weeks of {when}")


def date_end(day: dt.date, outside_rth: bool) -> dt.datetime:
    """The end of `day`'s trading (a GTD date without a time); a day the
    market is closed ends with the previous trading day."""
    while not is_trading_day(day):
        day -= dt.timedelta(days=1)
    trading = trading_day(day)
    assert trading is not None
    return trading.after_hours_end if outside_rth else trading.close


def parse_ib_time(text: str) -> dt.datetime | None:
    """IB's time text: "yyyymmdd hh:mm:ss" with an optional zone (an IANA
    name such as US/Eastern, or UTC; none means US/Eastern, the zone of this
    gateway's login), or "yyyymmdd-hh:mm:ss" in UTC.  None when unreadable."""
    text = text.strip()
    try:
        if "-" in text[:9]:
            return dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.UTC)
        parts = text.split(" ")
        base = dt.datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else EASTERN
        return base.replace(tzinfo=zone)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return None

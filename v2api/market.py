"""Pure: the US equity market's calendar and clock in Alpaca's shape, and
IB's contracts as Alpaca's assets.

Each trading day comes from IB's trading hours where the gateway published
them (the contract details' ``liquidHours`` and ``tradingHours`` of the next
days, trading.gateway.lookups: what the gateway itself, the simulator's
clock included, says), and otherwise from NYSE's rules: weekends and NYSE's
holidays closed, regular hours 09:30-16:00 (13:00 on early closes), extended
sessions 04:00-20:00 (17:00), the holidays and early closes from the
``holidays`` package's NYSE calendar (pinned in requirements.txt)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from v2api.ids import asset_uuid

EASTERN = ZoneInfo("America/New_York")

OPEN = dt.time(9, 30)
CLOSE = dt.time(16, 0)
EARLY_CLOSE = dt.time(13, 0)
SESSION_OPEN = dt.time(4, 0)
SESSION_CLOSE = dt.time(20, 0)
EARLY_SESSION_CLOSE = dt.time(17, 0)

# Alpaca's calendar covers 1970 to 2029; this one as far as NYSE's rules go.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
# US equities settle T+1 from 2024-05-28 (SEC rule 15c6-1), T+2 before.
T_PLUS_ONE_SINCE = dt.date(2024, 5, 28)
# How far ahead the clock looks for the next open (the longest closure since
# 1970 lasted four weekdays, 2001-09-11 to 09-14).
LOOK_AHEAD_DAYS = 30
# How far back the last close is looked for (a weekend and that closure).
LOOK_BACK_DAYS = 10


@dataclass(frozen=True)
class MarketDay:
    date: dt.date
    open: dt.datetime
    close: dt.datetime
    session_open: dt.datetime
    session_close: dt.datetime


@functools.cache
def _nyse(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """NYSE's holidays and early closes (13:00) of a year."""
    closed = holidays.financial_holidays("NYSE", years=year)
    early = holidays.financial_holidays("NYSE", years=year, categories=("half_day",))
    return frozenset(closed), frozenset(early)


def nyse_day(day: dt.date) -> MarketDay | None:
    """A day by NYSE's rules, or None when the market does not open."""
    closed, early = _nyse(day.year)
    if day.weekday() >= 5 or day in closed:
        return None
    half = day in early

    def at(time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, EASTERN)

    return MarketDay(
        date=day,
        open=at(OPEN),
        close=at(EARLY_CLOSE if half else CLOSE),
        session_open=at(SESSION_OPEN),
        session_close=at(EARLY_SESSION_CLOSE if half else SESSION_CLOSE),
    )


def _spans(value: Any) -> list[tuple[dt.datetime, dt.datetime]]:
    return [(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)) for a, b in value]


class Calendar:
    """Trading days: IB's hours for the days they name, NYSE's rules for the
    rest.  ``hours`` is the mirror's ``{"liquid": {date: [[start, end]]},
    "trading": {...}}`` (ISO 8601), or None when the gateway published none."""

    def __init__(self, hours: dict[str, Any] | None = None) -> None:
        hours = hours or {}
        self.liquid = {
            dt.date.fromisoformat(d): _spans(s) for d, s in (hours.get("liquid") or {}).items()
        }
        self.trading = {
            dt.date.fromisoformat(d): _spans(s) for d, s in (hours.get("trading") or {}).items()
        }

    def day(self, day: dt.date) -> MarketDay | None:
        liquid = self.liquid.get(day)
        if liquid is None:
            return nyse_day(day)
        if not liquid:
            return None
        extended = self.trading.get(day) or liquid
        return MarketDay(
            date=day,
            open=min(s for s, _ in liquid),
            close=max(e for _, e in liquid),
            session_open=min(s for s, _ in extended),
            session_close=max(e for _, e in extended),
        )

    def days(self, start: dt.date, end: dt.date) -> list[MarketDay]:
        start, end = max(start, FIRST_DAY), min(end, LAST_DAY)
        found = (self.day(start + dt.timedelta(days=n)) for n in range((end - start).days + 1))
        return [day for day in found if day is not None]

    def settlement_date(self, day: dt.date) -> dt.date:
        """The trading day a trade of ``day`` settles on (T+1, T+2 before 2024-05-28)."""
        left = 1 if day >= T_PLUS_ONE_SINCE else 2
        while left:
            day += dt.timedelta(days=1)
            if self.day(day) is not None:
                left -= 1
        return day

    def sessions_around(self, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """Regular sessions from the day before ``now`` for LOOK_AHEAD_DAYS,
        back to back ones merged (a market open round the clock is one)."""
        return self._regular(now.astimezone(EASTERN).date() - dt.timedelta(days=1), LOOK_AHEAD_DAYS)

    def _regular(self, first: dt.date, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        for n in range(days):
            day = first + dt.timedelta(days=n)
            liquid = self.liquid.get(day)
            if liquid is not None:
                spans += liquid
            elif (market_day := nyse_day(day)) is not None:
                spans.append((market_day.open, market_day.close))
        return _merged(spans)

    def closed_since(self, now: dt.datetime) -> dt.datetime | None:
        """When the regular session last ended, while it is closed at ``now``
        (None while it is open)."""
        today = now.astimezone(EASTERN).date()
        spans = self._regular(today - dt.timedelta(days=LOOK_BACK_DAYS), LOOK_BACK_DAYS + 2)
        if any(start <= now < end for start, end in spans):
            return None
        ended = [end for _, end in spans if end <= now]
        return max(ended) if ended else None


def _merged(
    spans: Iterable[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clock(now: dt.datetime, calendar: Calendar) -> dict[str, Any]:
    """Alpaca's clock at ``now`` (aware): times in US/Eastern with their offset."""
    spans = calendar.sessions_around(now)
    current = next((span for span in spans if span[0] <= now < span[1]), None)
    upcoming = [span for span in spans if span[0] > now]
    next_open = upcoming[0][0] if upcoming else None
    next_close = current[1] if current else (upcoming[0][1] if upcoming else None)
    if next_open is None or next_close is None:  # never: NYSE opens every week
        raise ValueError(f"no market session within {LOOK_AHEAD_DAYS} days of {now}")
    return {
        "timestamp": now.astimezone(EASTERN).isoformat(),
        "is_open": current is not None,
        "next_open": next_open.astimezone(EASTERN).isoformat(),
        "next_close": next_close.astimezone(EASTERN).isoformat(),
    }


def _hhmm(day: dt.date, when: dt.datetime) -> str:
    """A time of ``day`` in US/Eastern as ``HHMM``; a session running past
    midnight (the simulator's open clock) ends at 2359 in a calendar of days."""
    local = when if when.tzinfo is EASTERN else when.astimezone(EASTERN)
    return "2359" if local.date() > day else f"{local.hour:02d}{local.minute:02d}"


def calendar_rows(calendar: Calendar, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The trading days from ``start`` to ``end`` as Alpaca's calendar shows
    them: ``open``/``close`` ``HH:MM``, ``session_open``/``session_close``
    ``HHMM`` (US/Eastern), ``settlement_date`` (T+1; T+2 before 2024-05-28)."""
    days = calendar.days(start, end + dt.timedelta(days=LOOK_AHEAD_DAYS))
    rows: list[dict[str, Any]] = []
    for n, day in enumerate(days):
        if day.date > end:
            break
        settles = 1 if day.date >= T_PLUS_ONE_SINCE else 2
        later = days[n + settles].date if n + settles < len(days) else None
        opens, closes = _hhmm(day.date, day.open), _hhmm(day.date, day.close)
        rows.append(
            {
                "date": day.date.isoformat(),
                "open": f"{opens[:2]}:{opens[2:]}",
                "close": f"{closes[:2]}:{closes[2:]}",
                "session_open": _hhmm(day.date, day.session_open),
                "session_close": _hhmm(day.date, day.session_close),
                "settlement_date": (later or calendar.settlement_date(day.date)).isoformat(),
            }
        )
    return rows


# --- assets ----------------------------------------------------------------------

# IB's primary exchange -> Alpaca's exchange ("" where Alpaca has no name).
EXCHANGES = {
    "NASDAQ": "NASDAQ",
    "ISLAND": "NASDAQ",
    "NYSE": "NYSE",
    "ARCA": "ARCA",
    "NYSEARCA": "ARCA",
    "AMEX": "AMEX",
    "NYSEAMERICAN": "AMEX",
    "BATS": "BATS",
    "BYX": "BATS",
    "PINK": "OTC",
    "OTC": "OTC",
}
ASSET_CLASSES = {"STK": "us_equity"}


def asset(row: dict[str, Any], *, tradable: bool) -> dict[str, Any] | None:
    """A contract (trading.gateway.lookups' row) as Alpaca's asset; None for
    what Alpaca's assets cannot name (not a US stock or ETF in USD, or no
    conId to derive its id from)."""
    asset_class = ASSET_CLASSES.get(row.get("sec_type") or "")
    if asset_class is None or row.get("currency") != "USD" or not row.get("con_id"):
        return None
    return {
        "id": str(asset_uuid(row["con_id"])),
        "class": asset_class,
        "exchange": EXCHANGES.get(row.get("exchange") or "", ""),
        "symbol": row["symbol"],
        "name": row.get("name"),
        "status": "active",  # IB answers contract details for listed contracts only
        "tradable": tradable,
        "marginable": True,
        # IB tells shortability with market data (generic tick 236), which the
        # service does not stream: a margin account may short, whether shares
        # can be borrowed is not known, so it is not claimed.
        "shortable": True,
        "easy_to_borrow": False,
        "fractionable": False,  # orders through the API are whole shares
        "min_order_size": None,
        "min_trade_increment": None,
        "price_increment": row.get("min_tick"),
        "maintenance_margin_requirement": None,
        "attributes": [],
    }


def assets_filtered(
    assets: Iterable[dict[str, Any]],
    *,
    status: str | None = None,
    asset_class: str | None = None,
    exchange: str | None = None,
    attributes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Alpaca's filters: each given one must match; ``attributes``: any of them."""
    return sorted(
        (
            a
            for a in assets
            if (status is None or a["status"] == status)
            and (asset_class is None or a["class"] == asset_class)
            and (exchange is None or a["exchange"] == exchange)
            and (not attributes or set(attributes) & set(a["attributes"]))
        ),
        key=lambda a: a["symbol"],
    )

"""Historical bars, generated consistently with the market the simulator
runs: since the quotes were last reset or the clock last jumped, bars are
built from the tape of trades the walk and `set_price` printed
(ibsim.quotes); before that, from a seeded, deterministic path that ends at
the price of that moment (every request sees the same past).  The last bar is the one running at the
simulated now and closes at the last price.  Pure functions, no sockets.

Sessions: with `useRTH` only regular hours, else pre-market, regular and
after-hours, on the clock's calendar; on the open clock (the market never
closes) every hour of every trading day, and of today, has bars.
BID, ASK and MIDPOINT bars are the quote the spread rule puts around each
price (ibsim.quotes); they carry no volume (-1), as IB's do."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from ibsim import sessions
from ibsim.quotes import QuoteBoard, on_tick, touch_around

BAR_SIZES = {
    "1 min": 60,
    "2 mins": 120,
    "3 mins": 180,
    "5 mins": 300,
    "10 mins": 600,
    "15 mins": 900,
    "20 mins": 1200,
    "30 mins": 1800,
    "1 hour": 3600,
    "2 hours": 7200,
    "3 hours": 10800,
    "4 hours": 14400,
    "8 hours": 28800,
    "1 day": 86400,
}
WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK")
MAX_BARS = 20_000  # beyond: IB's "Time length exceed max."
SWING = 0.012  # the synthetic past moves within about +/-1.2% of the start price
# The synthetic path: a few waves (period in seconds, weight) and per-minute jitter.
WAVES = ((2_820.0, 0.35), (19_000.0, 0.3), (270_000.0, 0.2), (2_000_000.0, 0.15))
_DURATION = re.compile(r"^\s*(\d+)\s+([SDWMY])\s*$")


@dataclass(frozen=True)
class Bar:
    start: dt.datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


class BarError(ValueError):
    """A request IB would refuse: (code, message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _hash(symbol: str, seed: int, n: int) -> int:
    return zlib.crc32(f"{seed}:{symbol}:{n}".encode())


class Tape:
    """The price of one symbol at any moment up to now."""

    def __init__(self, board: QuoteBoard, symbol: str, seed: int, now: float) -> None:
        self.symbol = symbol
        self.start_price = board.tape_anchor[symbol]
        self.seed = seed
        self.origin = board.tape_origin
        self.trades = board.tape[symbol]
        if now < self.origin:
            # The clock was set back before the tape: the past leads to the last price.
            self.origin, self.start_price, self.trades = now, board[symbol].last, []
        self.times = [t for t, _, _ in self.trades]
        phase = _hash(symbol, seed, -1)
        self.phases = [((phase >> (8 * i)) & 0xFF) / 255 * 2 * math.pi for i in range(4)]
        self.anchor = self._wave(self.origin)

    def _wave(self, t: float) -> float:
        value = sum(
            w * math.sin(2 * math.pi * t / period + phase)
            for (period, w), phase in zip(WAVES, self.phases, strict=True)
        )
        jitter = (_hash(self.symbol, self.seed, int(t // 60)) & 0xFFFF) / 0xFFFF - 0.5
        return value + 0.15 * jitter

    def price(self, t: float) -> float:
        """The last price at epoch second `t`."""
        if t < self.origin:
            return on_tick(self.start_price * (1 + SWING * (self._wave(t) - self.anchor)))
        i = bisect.bisect_right(self.times, t)
        return self.trades[i - 1][1] if i else on_tick(self.start_price)

    def cell(self, a: float, b: float, now: float) -> Bar:
        """The trades of [a, min(b, now))."""
        end = min(b, now)
        o, c = self.price(a), self.price(end if end < now else now)
        prices = [o, c]
        volume, count = 0.0, 0
        if end > self.origin:
            lo = bisect.bisect_left(self.times, max(a, self.origin))
            hi = bisect.bisect_left(self.times, end)
            for _, price, size in self.trades[lo:hi]:
                prices.append(price)
                volume += size
                count += 1
        if a < self.origin:
            h = _hash(self.symbol, self.seed, int(a))
            minutes = max((min(end, self.origin) - a) / 60, 1 / 60)
            tick = 0.01 * (h & 3)
            prices += [max(o, c) + tick, min(o, c) - 0.01 * ((h >> 2) & 3)]
            volume += 100 * (5 + (h >> 4) % 60) * minutes
            count += int((3 + (h >> 10) % 40) * minutes) + 1
        high, low = on_tick(max(prices)), on_tick(min(prices))
        return Bar(
            dt.datetime.fromtimestamp(a, dt.UTC),
            o,
            high,
            low,
            c,
            round(volume),
            round((o + high + low + c) / 4, 4),
            count,
        )


def merge(cells: list[Bar], start: dt.datetime) -> Bar:
    high = max(c.high for c in cells)
    low = min(c.low for c in cells)
    volume = sum(c.volume for c in cells)
    wap = sum(c.wap * c.volume for c in cells) / volume if volume else cells[-1].close
    return Bar(
        start,
        cells[0].open,
        high,
        low,
        cells[-1].close,
        volume,
        round(wap, 4),
        sum(c.count for c in cells),
    )


def quoted(bar: Bar, what: str) -> Bar:
    """The bar of BID, ASK or MIDPOINT prices around a TRADES bar."""
    if what == "TRADES":
        return bar

    def side(price: float) -> float:
        bid, ask = touch_around(price)
        return {"BID": bid, "ASK": ask}.get(what, round((bid + ask) / 2, 4))

    o, h, low, c = (side(x) for x in (bar.open, bar.high, bar.low, bar.close))
    return Bar(bar.start, o, h, low, c, -1, -1, -1)


def window_start(
    end: dt.datetime, duration: str, trading: Callable[[dt.date], bool]
) -> dt.datetime:
    """Where a request's duration ("60 S", "2 D", "1 W", "1 M", "1 Y") starts;
    days count trading days, as IB counts them."""
    match = _DURATION.match(duration)
    if not match or int(match.group(1)) <= 0:
        raise BarError(162, "Historical Market Data Service error message:Invalid duration string")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "S":
        return end - dt.timedelta(seconds=n)
    if unit != "D":
        return end - dt.timedelta(days=n * {"W": 7, "M": 30, "Y": 365}[unit])
    day = end.astimezone(sessions.EASTERN).date()
    found = 0
    for _ in range(n * 3 + 10):
        if trading(day):
            found += 1
            if found == n:
                break
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), sessions.EASTERN)


def build(
    tape: Tape,
    begin: dt.datetime,
    end: dt.datetime,
    bar_seconds: int,
    allowed: Callable[[dt.datetime], bool],
) -> list[Bar]:
    """The bars of [begin, end), aligned to midnight US/Eastern, each made of
    the minutes (half hours for bars of more than an hour) it spends in the
    allowed sessions; a bar with none is left out."""
    now = end.timestamp()
    step = 60 if bar_seconds <= 3600 else 1800
    local = begin.astimezone(sessions.EASTERN)
    midnight = dt.datetime.combine(local.date(), dt.time(0), sessions.EASTERN).timestamp()
    t = midnight + ((begin.timestamp() - midnight) // step) * step
    bars: list[Bar] = []
    current: list[Bar] = []
    current_key: float | None = None
    while t < now:
        at = dt.datetime.fromtimestamp(t, dt.UTC)
        if allowed(at):
            key = _bar_key(at, bar_seconds)
            if key != current_key and current:
                bars.append(merge(current, current[0].start))
                current = []
            current_key = key
            current.append(tape.cell(t, t + step, now))
            if len(bars) > MAX_BARS:
                raise BarError(
                    162, "Historical Market Data Service error message:Time length exceed max."
                )
        t += step
    if current:
        bars.append(merge(current, current[0].start))
    return bars


def _bar_key(at: dt.datetime, bar_seconds: int) -> float:
    local = at.astimezone(sessions.EASTERN)
    if bar_seconds >= 86400:
        return float(local.date().toordinal())
    midnight = dt.datetime.combine(local.date(), dt.time(0), sessions.EASTERN).timestamp()
    return midnight + ((at.timestamp() - midnight) // bar_seconds) * bar_seconds


def bar_date(bar: Bar, bar_seconds: int, format_date: int) -> str:
    """IB's bar time: the day (daily bars), else the bar's start with the
    zone name (formatDate 1) or in epoch seconds (formatDate 2)."""
    local = bar.start.astimezone(sessions.EASTERN)
    if bar_seconds >= 86400:
        return local.strftime("%Y%m%d")
    if format_date == 2:
        return str(int(bar.start.timestamp()))
    return local.strftime("%Y%m%d %H:%M:%S") + " US/Eastern"

"""What the gateway knows about the market, for /v2's clock, calendar and
assets: its time, the exchange's trading hours, contract details.

- **The market section of the mirror** (``gateway:market``), refreshed every
  ``MARKET_EVERY`` seconds while connected: the gateway's clock as an offset
  from ours (reqCurrentTime), and the trading hours of the next days from the
  contract details of ``HOURS_SYMBOL`` (US stocks share one schedule on
  SMART), fetched again when the gateway's date changes, when its clock
  jumps (the simulator's ``set_clock``) and every ``HOURS_EVERY`` seconds.
- **Assets** (the order bus's ``assets`` operation): contract details by
  symbol, cached for ``ASSET_TTL``; with ``known``, also every symbol the
  service has reason to list (``ASSET_SYMBOLS``, positions, working orders,
  symbols looked up before: the mirror's ``gateway:assets_known``, so they
  outlive a worker restart).

IB's camelCase stays here: what leaves is plain data (``asset_row``,
``hours_by_day``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from ib_async import IB, Contract, ContractDetails, Stock

from trading import wire
from trading.wire import Outcome, OutcomeKind

log = logging.getLogger("trading.gateway")

OPERATIONS = ("assets",)
MARKET_EVERY = 1.0  # seconds between reqCurrentTime (a moved clock shows within it)
HOURS_EVERY = 600.0  # seconds between fetches of the trading hours, unchanged otherwise
HOURS_SYMBOL = "SPY"
SESSION_END_MARGIN = 2.0  # seconds before a session's end that count as after it
ASSET_TTL = 3600.0
MAX_ASSETS = 4096  # contracts cached at most (the least recently asked go first)
MAX_LOOKUPS = 8  # contract details requests in flight at once
KNOWN_KEY = wire.MIRROR_PREFIX + "assets_known"


# --- pure: IB's data into ours -------------------------------------------------


def hours_by_day(text: str, zone: str) -> dict[str, list[list[str]]]:
    """IB's ``tradingHours``/``liquidHours`` text as ``{date: [[start, end]]}``
    (ISO 8601 with the zone's offset): ``20261127:0930-20261127:1300`` is a
    session, ``20261126:CLOSED`` a day without one (an empty list).  Entries
    that do not parse are left out."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return {}
    days: dict[str, list[list[str]]] = {}
    for entry in text.split(";"):
        entry = entry.strip()
        day, _, rest = entry.partition(":")
        try:
            date = dt.datetime.strptime(day, "%Y%m%d").date().isoformat()
            if rest == "CLOSED":
                days.setdefault(date, [])
                continue
            start_text, end_text = entry.split("-")
            start = dt.datetime.strptime(start_text, "%Y%m%d:%H%M").replace(tzinfo=tz)
            end = dt.datetime.strptime(end_text, "%Y%m%d:%H%M").replace(tzinfo=tz)
        except ValueError:
            continue
        days.setdefault(date, []).append([start.isoformat(), end.isoformat()])
    return days


def asset_row(details: ContractDetails) -> dict[str, Any]:
    contract = details.contract or Contract()
    return {
        "con_id": contract.conId,
        "symbol": contract.symbol,
        "sec_type": contract.secType,
        "currency": contract.currency,
        "exchange": contract.primaryExchange or details.validExchanges.split(",")[0],
        "name": details.longName or None,
        "min_tick": details.minTick or None,
        "stock_type": details.stockType or None,
    }


class ClockOffset:
    """The gateway's clock against ours.  reqCurrentTime answers whole
    seconds (rounded down), so each answer bounds the offset to an interval;
    the intervals of a steady clock narrow it down, one that does not meet
    the last means the gateway's clock jumped."""

    def __init__(self) -> None:
        self.low: float | None = None
        self.high: float | None = None

    def add(self, sent: float, gateway: float, received: float) -> bool:
        """Add one answer; True when the clock jumped (or is new)."""
        low, high = gateway - received, gateway + 1 - sent
        if self.low is None or self.high is None or low > self.high or high < self.low:
            self.low, self.high = low, high
            return True
        self.low, self.high = max(self.low, low), min(self.high, high)
        return False

    @property
    def value(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.low + self.high) / 2


# --- the worker's end -----------------------------------------------------------


class Lookups:
    def __init__(
        self,
        ib: IB,
        ready: Callable[[], bool],
        publish: Callable[[dict[str, Any]], None],
        current_time: Callable[[float], Awaitable[tuple[float, dt.datetime]]],
    ) -> None:
        self.ib = ib
        self.ready = ready
        self.publish = publish
        self.current_time = current_time  # trading.gateway.connection's, shared
        self.offset = ClockOffset()
        self.hours: dict[str, Any] | None = None
        self.hours_at = 0.0
        self.hours_date: str | None = None
        self.assets: OrderedDict[str, tuple[float, dict[str, Any] | None]] = OrderedDict()
        self.known: set[str] | None = None
        self._slots = asyncio.Semaphore(MAX_LOOKUPS)
        self._refreshing: asyncio.Future[None] | None = None

    def forget(self) -> None:
        """After a disconnect: the next gateway may be another one."""
        self.offset = ClockOffset()
        self.hours = None
        self.assets.clear()

    # --- the market section ------------------------------------------------------

    async def run(self) -> None:
        while True:
            if self.ready():
                await self.refresh_quietly()
            await asyncio.sleep(MARKET_EVERY)

    async def refresh_shared(self) -> None:
        """``refresh_quietly``, one at a time: callers meanwhile await the
        refresh in flight (a burst of orders cancelled at the close asks once)."""
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh_quietly())
        await asyncio.shield(self._refreshing)

    async def refresh_quietly(self, timeout: float | None = None) -> None:
        """``refresh``, its failure logged; each request waits ``timeout``
        seconds at most (IB_REQUEST_TIMEOUT)."""
        try:
            await self.refresh(timeout or settings.IB_REQUEST_TIMEOUT)
        except Exception:  # a slow or lost gateway: the next round tries again
            log.debug("market refresh failed", exc_info=True)

    async def refresh(self, timeout: float) -> None:
        sent, now = await self.current_time(timeout)
        received = time.time()
        jumped = self.offset.add(sent, now.timestamp(), received)
        offset = self.offset.value
        assert offset is not None
        date = dt.datetime.fromtimestamp(received + offset, dt.UTC).date().isoformat()
        stale = time.monotonic() - self.hours_at > HOURS_EVERY
        if jumped or stale or self.hours is None or date != self.hours_date:
            try:
                self.hours = await self._fetch_hours(timeout)
            except BaseException:
                # The clock moved but its hours are unknown: the next round
                # starts over (an offset without its hours is not published).
                self.offset = ClockOffset()
                raise
            self.hours_at = time.monotonic()
            self.hours_date = date
        self.publish(
            {
                "market": {
                    "offset": offset,
                    "hours": self.hours,
                    "measured": received,
                }
            }
        )

    async def _fetch_hours(self, timeout: float) -> dict[str, Any] | None:
        found = await asyncio.wait_for(
            self.ib.reqContractDetailsAsync(Stock(HOURS_SYMBOL, "SMART", "USD")), timeout
        )
        if not found:
            return None
        details = found[0]
        return {
            "symbol": HOURS_SYMBOL,
            "time_zone": details.timeZoneId,
            "trading": hours_by_day(details.tradingHours, details.timeZoneId),
            "liquid": hours_by_day(details.liquidHours, details.timeZoneId),
        }

    def in_session(self, *, outside_rth: bool) -> bool | None:
        """Whether the gateway's clock is inside a session (the regular one;
        ``outside_rth``: the extended one) by its trading hours; None while
        either is unknown.  A session's last seconds count as after it (the
        offset is known to a second): a DAY order IB cancels at the close
        must read as ended by it."""
        offset = self.offset.value
        if self.hours is None or offset is None:
            return None
        now = dt.datetime.fromtimestamp(time.time() + offset, dt.UTC)
        days = self.hours.get("trading" if outside_rth else "liquid") or {}
        margin = dt.timedelta(seconds=SESSION_END_MARGIN)
        return any(
            dt.datetime.fromisoformat(start) <= now < dt.datetime.fromisoformat(end) - margin
            for sessions in days.values()
            for start, end in sessions
        )

    # --- assets --------------------------------------------------------------------

    async def serve(self, op: str, args: dict[str, Any], deadline: float) -> Outcome:
        if not self.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        symbols = {str(s).upper() for s in args.get("symbols") or []}
        if args.get("known"):
            symbols |= await self._known()
        timeout = max(min(deadline - time.time(), settings.IB_REQUEST_TIMEOUT), 0.1)
        try:
            rows = await asyncio.wait_for(
                asyncio.gather(*(self._asset(s) for s in sorted(symbols))), timeout
            )
        except TimeoutError:
            return Outcome.fail(OutcomeKind.TIMEOUT, "IB Gateway did not answer in time")
        found = [row for row in rows if row is not None]
        await self._remember({row["symbol"] for row in found})
        return Outcome.done(assets=found)

    async def _asset(self, symbol: str) -> dict[str, Any] | None:
        cached = self.assets.get(symbol)
        if cached is not None and time.monotonic() - cached[0] < ASSET_TTL:
            self.assets.move_to_end(symbol)
            return cached[1]
        async with self._slots:
            found = await self.ib.reqContractDetailsAsync(Stock(symbol, "SMART", "USD"))
        # A symbol IB does not know (error 200) is cached as such for a while too.
        row = asset_row(found[0]) if found else None
        self.assets[symbol] = (time.monotonic(), row)
        self.assets.move_to_end(symbol)
        while len(self.assets) > MAX_ASSETS:
            self.assets.popitem(last=False)
        return row

    async def _known(self) -> set[str]:
        if self.known is None:
            stored = await asyncio.to_thread(cache.get, KNOWN_KEY)
            self.known = set(stored) if isinstance(stored, list) else set()
        held = {p.contract.symbol for p in self.ib.positions() if p.contract.secType == "STK"}
        working = {t.contract.symbol for t in self.ib.openTrades() if t.contract.secType == "STK"}
        return self.known | held | working | set(settings.ASSET_SYMBOLS)

    async def _remember(self, symbols: set[str]) -> None:
        if self.known is None:
            await self._known()
        assert self.known is not None
        if symbols <= self.known:
            return
        self.known |= symbols
        self.publish({"assets_known": sorted(self.known)})

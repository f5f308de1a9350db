"""reqHistoricalData over the socket (bars from ibsim.bars), IB's pacing of
historical requests, and keepUpToDate subscriptions.

Pacing, as IB documents it: more than 60 historical data requests within
ten minutes, or a request identical to one made within the last 15 seconds,
is answered with error 162 "Historical data request pacing violation" (the
gateway counts every client's requests; a refused one does not count).

Layouts (no version field at the versions negotiated): historicalData
`[17, reqId, startDateStr, endDateStr, numBars, (date, open, high, low,
close, volume, WAP, barCount) * numBars]`, historicalDataUpdate
`[90, reqId, barCount, date, open, close, high, low, WAP, volume]`."""

from __future__ import annotations

import collections
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ibsim import bars, sessions
from ibsim import protocol as p
from ibsim.book import Book

IN_REQ_HISTORICAL_DATA = 20
IN_CANCEL_HISTORICAL_DATA = 25
OUT_HISTORICAL_DATA = 17
OUT_HISTORICAL_DATA_UPDATE = 90

PACING_WINDOW = 600.0  # seconds: at most PACING_LIMIT requests in it
PACING_LIMIT = 60
IDENTICAL_WINDOW = 15.0  # seconds: an identical request within it is refused
PACING_VIOLATION = (
    "Historical Market Data Service error message:Historical data request pacing violation"
)
HMDS = 162  # "Historical Market Data Service error message:..."
VALIDATION = 321


class Peer(Protocol):
    closed: bool

    def send(self, fields: list[Any]) -> None: ...

    def error(self, req_id: int, code: int, message: str) -> None: ...


@dataclass(frozen=True)
class Request:
    symbol: str
    end: str
    duration: str
    bar_size: str
    what: str
    use_rth: bool
    format_date: int


@dataclass
class Subscription:
    conn: Peer
    req_id: int
    request: Request


class HistoryFeed:
    def __init__(
        self,
        book: Book,
        peers: Callable[[], Iterable[Peer]],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.book = book
        self.peers = peers
        self.monotonic = monotonic
        self.recent: collections.deque[tuple[float, Request]] = collections.deque()
        self.subs: dict[tuple[int, int], Subscription] = {}
        self.pacing_errors = 0

    # --- requests ---------------------------------------------------------

    def on_req_historical_data(self, conn: Peer, msg: p.FieldReader) -> None:
        req_id = msg.int()
        con_id, symbol, sec_type = msg.int(), msg.str(), msg.str()
        msg.skip(4)  # lastTradeDate, strike, right, multiplier
        exchange, primary, currency = msg.str(), msg.str(), msg.str()
        msg.skip(3)  # localSymbol, tradingClass, includeExpired
        end, bar_size, duration = msg.str(), msg.str(), msg.str()
        use_rth = msg.bool()
        what = msg.str().upper()
        format_date = msg.int(1)
        if sec_type == "BAG":
            conn.error(
                req_id,
                VALIDATION,
                "Error validating request.-'bP' : cause - Combo "
                "historical data is not supported by the simulator.",
            )
            return
        keep_up_to_date = msg.bool()
        contract = self.book.resolve_contract(con_id, symbol, sec_type, exchange, primary, currency)
        if contract is None:
            conn.error(req_id, 200, p.NO_SECURITY_DEFINITION)
            return
        request = Request(
            contract.symbol, end.strip(), duration, bar_size, what, use_rth, format_date
        )
        try:
            self._check(request, keep_up_to_date)
        except bars.BarError as exc:
            conn.error(req_id, exc.code, exc.message)
            return
        if not self._paced(conn, req_id, request):
            return
        try:
            begin, until, found = self._bars(request)
        except bars.BarError as exc:
            conn.error(req_id, exc.code, exc.message)
            return
        if not found:
            conn.error(
                req_id,
                HMDS,
                "Historical Market Data Service error message:HMDS query "
                f"returned no data: {contract.symbol}@SMART {what.title()}",
            )
            return
        conn.send(self._message(req_id, request, begin, until, found))
        if keep_up_to_date:
            self.subs[(id(conn), req_id)] = Subscription(conn, req_id, request)

    def on_cancel_historical_data(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()  # version
        self.subs.pop((id(conn), msg.int()), None)

    def _check(self, request: Request, keep_up_to_date: bool) -> None:
        if request.bar_size not in bars.BAR_SIZES:
            raise bars.BarError(
                VALIDATION,
                "Error validating request.-'bP' : cause - Historical data bar size setting is "
                f"invalid (the simulator serves {', '.join(bars.BAR_SIZES)}).",
            )
        if request.what not in bars.WHAT_TO_SHOW:
            raise bars.BarError(
                HMDS,
                f"Historical Market Data Service error message:No data of type {request.what} "
                "is available from the simulator (TRADES, MIDPOINT, BID, ASK).",
            )
        if keep_up_to_date and request.end:
            raise bars.BarError(
                VALIDATION,
                "Error validating request.-'bP' : cause - End date not supported with live updates",
            )

    def _paced(self, conn: Peer, req_id: int, request: Request) -> bool:
        """Count the request against IB's pacing rules; refuse it with error
        162 when it breaks one."""
        now = self.monotonic()
        while self.recent and self.recent[0][0] <= now - PACING_WINDOW:
            self.recent.popleft()
        identical = any(r == request and at > now - IDENTICAL_WINDOW for at, r in self.recent)
        if identical or len(self.recent) >= PACING_LIMIT:
            self.pacing_errors += 1
            conn.error(req_id, HMDS, PACING_VIOLATION)
            return False
        self.recent.append((now, request))
        return True

    # --- bars -------------------------------------------------------------

    def _bars(self, request: Request) -> tuple[dt.datetime, dt.datetime, list[bars.Bar]]:
        now = self.book.now()
        until = now
        if request.end:
            when = sessions.parse_ib_time(request.end)
            if when is None:
                raise bars.BarError(
                    VALIDATION,
                    "Error validating request.-'bP' : cause - Invalid end date/time "
                    f"{request.end!r}",
                )
            until = min(when, now)
        begin = bars.window_start(until, request.duration, self._trading_day)
        tape = self._tape(request.symbol)
        found = bars.build(
            tape, begin, until, bars.BAR_SIZES[request.bar_size], self._allowed(request.use_rth)
        )
        return begin, until, [bars.quoted(bar, request.what) for bar in found]

    def _tape(self, symbol: str) -> bars.Tape:
        return bars.Tape(
            self.book.quotes,
            symbol,
            self.book.seed,
            self.book.now().timestamp(),
        )

    def _trading_day(self, day: dt.date) -> bool:
        today = self.book.now().astimezone(sessions.EASTERN).date()
        return sessions.is_trading_day(day) or (day == today and not self.book.clock.calendar)

    def _allowed(self, use_rth: bool) -> Callable[[dt.datetime], bool]:
        wanted = (
            (sessions.REGULAR,)
            if use_rth
            else (sessions.PRE_MARKET, sessions.REGULAR, sessions.AFTER_HOURS)
        )

        def allowed(at: dt.datetime) -> bool:
            if self.book.clock.calendar:
                return sessions.session_at(at) in wanted
            return self._trading_day(at.astimezone(sessions.EASTERN).date())

        return allowed

    def _message(
        self,
        req_id: int,
        request: Request,
        begin: dt.datetime,
        until: dt.datetime,
        found: list[bars.Bar],
    ) -> list[Any]:
        seconds = bars.BAR_SIZES[request.bar_size]
        fields: list[Any] = [
            OUT_HISTORICAL_DATA,
            req_id,
            _stamp(begin),
            _stamp(until),
            len(found),
        ]
        for bar in found:
            fields += [
                bars.bar_date(bar, seconds, request.format_date),
                bar.open,
                bar.high,
                bar.low,
                bar.close,
                int(bar.volume),
                bar.wap,
                bar.count,
            ]
        return fields

    # --- keepUpToDate -----------------------------------------------------

    def publish(self, symbols: Iterable[str]) -> None:
        """Prices moved: each subscription on them gets its running bar."""
        moved = set(symbols)
        open_conns = {id(c) for c in self.peers()}
        for key, sub in list(self.subs.items()):
            if sub.conn.closed or key[0] not in open_conns:
                del self.subs[key]
                continue
            if sub.request.symbol not in moved:
                continue
            seconds = bars.BAR_SIZES[sub.request.bar_size]
            now = self.book.now()
            tape = self._tape(sub.request.symbol)
            recent = bars.build(
                tape,
                now - dt.timedelta(seconds=seconds),
                now,
                seconds,
                self._allowed(sub.request.use_rth),
            )
            if not recent:
                continue
            bar = bars.quoted(recent[-1], sub.request.what)
            sub.conn.send(
                [
                    OUT_HISTORICAL_DATA_UPDATE,
                    sub.req_id,
                    bar.count,
                    bars.bar_date(bar, seconds, sub.request.format_date),
                    bar.open,
                    bar.close,
                    bar.high,
                    bar.low,
                    bar.wap,
                    int(bar.volume),
                ]
            )


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(sessions.EASTERN).strftime("%Y%m%d %H:%M:%S") + " US/Eastern"

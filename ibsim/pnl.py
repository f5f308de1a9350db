"""Profit and loss as IB's reqPnL and reqPnLSingle report it: the account's
(or one position's) daily, unrealized and realized P&L, pushed to each
subscription whenever they change (fills and price moves).

- unrealized: each position at the last price against its average cost
  (commissions included, as the average cost is), as updatePortfolio reports;
- realized: what the day's closing executions realized (their
  commissionReport's realizedPNL, commissions deducted);
- daily: since the previous close — the position held then, valued from the
  previous close (tick 9 of market data) to the last price, plus each of the
  day's executions from its price to the last, less the day's commissions.
  The day starts at the last regular close when the clock follows the
  calendar; on the open clock (the market never closes) it is the gateway's
  session: every execution since the (re)start counts.

Layouts (no version field, as both clients read them): pnl
`[94, reqId, dailyPnL, unrealizedPnL, realizedPnL]`, pnlSingle
`[95, reqId, pos, dailyPnL, unrealizedPnL, realizedPnL, value]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ibsim import protocol as p
from ibsim import sessions
from ibsim.book import Book
from ibsim.records import Execution
from ibsim.universe import BY_CON_ID

OUT_PNL = 94
OUT_PNL_SINGLE = 95
IN_REQ_PNL = 92
IN_CANCEL_PNL = 93
IN_REQ_PNL_SINGLE = 94
IN_CANCEL_PNL_SINGLE = 95


class Peer(Protocol):
    closed: bool

    def send(self, fields: list[Any]) -> None: ...

    def error(self, req_id: int, code: int, message: str) -> None: ...


@dataclass(frozen=True)
class Figures:
    position: float
    daily: float
    unrealized: float
    realized: float
    value: float


def day_start(book: Book) -> dt.datetime | None:
    """Where the P&L day starts: the last regular close before now (None on
    the open clock: the whole session)."""
    if not book.clock.calendar:
        return None
    now = book.now()
    day = now.astimezone(sessions.EASTERN).date()
    for back in range(15):
        trading = sessions.trading_day(day - dt.timedelta(days=back))
        if trading is not None and trading.close <= now:
            return trading.close
    return None


def _todays(book: Book, symbol: str, since: dt.datetime | None) -> list[Execution]:
    return [e for e in book.executions if e.symbol == symbol and (since is None or e.when >= since)]


def figures(book: Book, symbol: str) -> Figures:
    """One symbol's P&L figures."""
    since = day_start(book)
    position = book.positions.get(symbol)
    quantity = position.quantity if position else 0.0
    avg_cost = position.avg_cost if position else 0.0
    quote = book.quotes[symbol]
    last = quote.last
    executions = _todays(book, symbol, since)
    bought = sum(e.shares if e.side == "BOT" else -e.shares for e in executions)
    held_at_close = quantity - bought
    daily = held_at_close * (last - quote.close)
    for e in executions:
        signed = e.shares if e.side == "BOT" else -e.shares
        daily += signed * (last - e.price) - e.commission
    realized = sum(e.realized_pnl or 0.0 for e in executions)
    return Figures(
        position=quantity,
        daily=round(daily, 2),
        unrealized=round(quantity * (last - avg_cost), 2),
        realized=round(realized, 2),
        value=round(quantity * last, 2),
    )


def account_figures(book: Book) -> Figures:
    symbols = {s for s, _ in book.position_rows(include_flat=True)}
    symbols |= {e.symbol for e in book.executions}
    parts = [figures(book, s) for s in sorted(symbols)]
    return Figures(
        position=0.0,
        daily=round(sum(f.daily for f in parts), 2),
        unrealized=round(sum(f.unrealized for f in parts), 2),
        realized=round(sum(f.realized for f in parts), 2),
        value=round(sum(f.value for f in parts), 2),
    )


@dataclass
class Subscription:
    conn: Peer
    req_id: int
    symbol: str | None  # None: the account's
    sent: tuple[float, ...] | None = None


class PnlFeed:
    def __init__(self, book: Book, peers: Callable[[], Iterable[Peer]]) -> None:
        self.book = book
        self.peers = peers
        self.subs: dict[tuple[int, int], Subscription] = {}  # (id(conn), reqId)

    def on_req_pnl(self, conn: Peer, msg: p.FieldReader) -> None:
        req_id = msg.int()
        account = msg.str()
        if not self._account_ok(conn, req_id, account):
            return
        self._subscribe(Subscription(conn, req_id, None))

    def on_req_pnl_single(self, conn: Peer, msg: p.FieldReader) -> None:
        req_id = msg.int()
        account = msg.str()
        msg.skip()  # modelCode
        con_id = msg.int()
        if not self._account_ok(conn, req_id, account):
            return
        contract = BY_CON_ID.get(con_id)
        if contract is None:
            conn.error(req_id, 200, p.NO_SECURITY_DEFINITION)
            return
        self._subscribe(Subscription(conn, req_id, contract.symbol))

    def on_cancel(self, conn: Peer, msg: p.FieldReader) -> None:
        self.subs.pop((id(conn), msg.int()), None)

    def _account_ok(self, conn: Peer, req_id: int, account: str) -> bool:
        if account in (self.book.account, ""):
            return True
        conn.error(
            req_id, 321, f"Error validating request.-'cB' : cause - Invalid account {account}"
        )
        return False

    def _subscribe(self, sub: Subscription) -> None:
        self.subs[(id(sub.conn), sub.req_id)] = sub
        self._send(sub)

    def push(self) -> None:
        """Tell each subscription what changed (fills, prices)."""
        open_conns = {id(c) for c in self.peers()}
        for key, sub in list(self.subs.items()):
            if sub.conn.closed or key[0] not in open_conns:
                del self.subs[key]
            else:
                self._send(sub)

    def _send(self, sub: Subscription) -> None:
        if sub.symbol is None:
            f = account_figures(self.book)
            fields: list[Any] = [OUT_PNL, sub.req_id, f.daily, f.unrealized, f.realized]
        else:
            f = figures(self.book, sub.symbol)
            fields = [
                OUT_PNL_SINGLE,
                sub.req_id,
                round(f.position),
                f.daily,
                f.unrealized,
                f.realized,
                f.value,
            ]
        values = tuple(fields[2:])
        if values == sub.sent:
            return
        sub.sent = values
        sub.conn.send(fields)

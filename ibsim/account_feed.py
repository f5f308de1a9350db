"""Account data over the socket, as a paper gateway serves it: reqPositions,
reqAccountUpdates, reqAccountUpdatesMulti and reqAccountSummary, and the
pushes to their subscribers when fills or prices change the account."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ibsim import protocol as p
from ibsim.book import Book
from ibsim.sessions import EASTERN
from ibsim.universe import CONTRACTS


class Peer(Protocol):
    """What the account feed needs of a connection."""

    account_updates: bool
    positions_sub: bool
    multi_subs: set[int]

    def send(self, fields: list[Any]) -> None: ...

    def error(self, req_id: int, code: int, message: str) -> None: ...


class AccountFeed:
    def __init__(self, book: Book, peers: Callable[[], Iterable[Peer]]) -> None:
        self.book = book
        self.peers = peers

    def _stamp(self) -> str:
        """updateAccountTime's HH:MM, on the simulated clock (US/Eastern)."""
        return self.book.now().astimezone(EASTERN).strftime("%H:%M")

    def push(self, symbols: list[str]) -> None:
        values = self.book.account_values()
        stamp = self._stamp()
        for conn in list(self.peers()):
            if conn.account_updates:
                for key, value, currency in values:
                    conn.send([p.OUT_ACCOUNT_VALUE, 2, key, value, currency, self.book.account])
                for symbol in symbols:
                    conn.send(self.book.portfolio_fields(symbol))
                conn.send([p.OUT_ACCOUNT_UPDATE_TIME, 1, stamp])
            for req_id in conn.multi_subs:
                for key, value, currency in values:
                    conn.send(
                        [
                            p.OUT_ACCOUNT_UPDATE_MULTI,
                            1,
                            req_id,
                            self.book.account,
                            "",
                            key,
                            value,
                            currency,
                        ]
                    )
            if conn.positions_sub:
                for symbol in symbols:
                    pos = self.book.positions.get(symbol)
                    if pos is not None:
                        conn.send(
                            p.position(
                                self.book.account, CONTRACTS[symbol], pos.quantity, pos.avg_cost
                            )
                        )

    def on_req_positions(self, conn: Peer, msg: p.FieldReader) -> None:
        conn.positions_sub = True
        for symbol, pos in self.book.position_rows():
            conn.send(p.position(self.book.account, CONTRACTS[symbol], pos.quantity, pos.avg_cost))
        conn.send([p.OUT_POSITION_END, 1])

    def on_cancel_positions(self, conn: Peer, msg: p.FieldReader) -> None:
        conn.positions_sub = False

    def on_req_account_updates(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        subscribe = msg.bool()
        account = msg.str()
        conn.account_updates = subscribe
        if not subscribe:
            return
        if account and account != self.book.account:
            conn.error(
                -1, 321, f"Error validating request:-'bN' : cause - Invalid account {account}"
            )
            return
        for key, value, currency in self.book.account_values():
            conn.send([p.OUT_ACCOUNT_VALUE, 2, key, value, currency, self.book.account])
        for symbol, _pos in self.book.position_rows():
            conn.send(self.book.portfolio_fields(symbol))
        conn.send([p.OUT_ACCOUNT_UPDATE_TIME, 1, self._stamp()])
        conn.send([p.OUT_ACCOUNT_DOWNLOAD_END, 1, self.book.account])

    def on_req_account_updates_multi(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        req_id = msg.int()
        account = msg.str()
        if account and account not in (self.book.account, "All"):
            conn.error(
                req_id, 321, f"Error validating request:-'bN' : cause - Invalid account {account}"
            )
            return
        conn.multi_subs.add(req_id)
        for key, value, currency in self.book.account_values():
            conn.send(
                [p.OUT_ACCOUNT_UPDATE_MULTI, 1, req_id, self.book.account, "", key, value, currency]
            )
        conn.send([p.OUT_ACCOUNT_UPDATE_MULTI_END, 1, req_id])

    def on_cancel_account_updates_multi(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        conn.multi_subs.discard(msg.int())

    def on_req_account_summary(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        req_id = msg.int()
        msg.skip()  # group
        tags = {t.strip() for t in msg.str().split(",") if t.strip()}
        for key, value, currency in self.book.account_values():
            if key in tags or "$LEDGER" in tags or "$LEDGER:ALL" in tags:
                conn.send(
                    [p.OUT_ACCOUNT_SUMMARY, 1, req_id, self.book.account, key, value, currency]
                )
        conn.send([p.OUT_ACCOUNT_SUMMARY_END, 1, req_id])

"""What the worker knows of the session, kept up to date by IB's events and
turned into the mirror's snapshots: the working orders (one API row each,
updated per event instead of rebuilt per order), the orders that just
finished, IB's warnings on our orders, and the session's fills (rebuilt only
when they changed).  Runs on the gateway loop only.

The finished orders bridge the moment between an order leaving the working
orders (filled, cancelled) and the journal's writer storing its final state:
without them a market order filled at once was, for a few milliseconds, in
neither, and ``GET /v2/orders/{id}`` answered 404 for an order IB had just
acknowledged."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ib_async import IB, Trade

from journal.vocabulary import FINISHED_STATUSES, WORKING_STATUSES
from trading.gateway import mapping
from trading.gateway.pnl import pnl_section
from trading.wire import SECTIONS

MIRROR_EXECUTIONS = 500  # newest session fills kept in the mirror
# The orders that finished last, kept in the mirror until the journal surely
# has them (its writer stores them within a fraction of a second; the
# scheduled sync, minutes later, anything it missed).
MIRROR_FINISHED = 200
FINISHED_KEEP = 600.0  # seconds
FINISHED_REPUBLISH_EVERY = 10.0  # seconds between publishes of an unchanged list


class Session:
    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        self.seq = 0
        # Bumped by every fill, commission and Filled status: the executions
        # are rebuilt only when it (or the number of fills or trades) moved.
        self.fills_version = 0
        self.requested_exec_ids: set[str] = set()  # execIds reqExecutions returned
        self._rows: dict[int, dict[str, Any]] = {}  # working orders by permId
        self._warnings: dict[int, list[dict[str, Any]]] = {}  # our order ids -> warnings
        self._executions_key: tuple[int, int, int] = (-1, -1, -1)
        self._executions: list[dict[str, Any]] = []
        # Finished orders by permId, oldest first: (monotonic time, record).
        self._finished: OrderedDict[int, tuple[float, dict[str, Any]]] = OrderedDict()
        self._finished_changed = True
        self._finished_published = 0.0
        self._expired: set[int] = set()  # finished orders that expired (permIds)

    # --- events ------------------------------------------------------------------

    def track(self, trade: Trade) -> None:
        """An order's state or terms changed."""
        status = mapping.order_status(trade)
        if status == "Filled":
            self.fills_version += 1
        perm_id = trade.order.permId
        if not perm_id:
            return
        if status in WORKING_STATUSES:
            self._rows[perm_id] = mapping.order_row(trade, self.warnings(trade))
        else:
            self._rows.pop(perm_id, None)
            if status in FINISHED_STATUSES:
                expired = perm_id in self._expired
                self._finish(perm_id, mapping.finished_order(trade, expired=expired))

    def expire(self, trade: Trade) -> None:
        """IB cancelled this DAY order at the end of its session: it expired."""
        self._expired.add(trade.order.permId)
        self.track(trade)

    def _finish(self, perm_id: int, record: dict[str, Any]) -> None:
        now = time.monotonic()
        known = self._finished.get(perm_id)
        if known is not None and known[1] == record:
            return
        self._finished.pop(perm_id, None)
        self._finished[perm_id] = (now, record)
        while self._finished and (
            len(self._finished) > MIRROR_FINISHED
            or next(iter(self._finished.values()))[0] < now - FINISHED_KEEP
        ):
            self._finished.popitem(last=False)
        self._expired.intersection_update(self._finished)
        self._finished_changed = True

    def track_all(self, trades: list[Trade]) -> None:
        """Rebuild the working orders from ib_async's trades (after a connect)."""
        self._rows = {}
        for trade in trades:
            self.track(trade)

    def forget_orders(self) -> None:
        """The connection dropped: what was working is unknown until it is back."""
        self._rows = {}

    def warn(self, order_id: int, code: int, message: str) -> list[dict[str, Any]]:
        """IB warned about one of our orders: kept on it (its row shows it)."""
        warnings = self._warnings.setdefault(order_id, [])
        warning = {"code": code, "message": message}
        if warning not in warnings:
            warnings.append(warning)
        for perm_id, row in list(self._rows.items()):
            if row["orderId"] == order_id and row["clientId"] == self.client_id:
                self._rows[perm_id] = {**row, "warnings": list(warnings)}
        return warnings

    def warnings(self, trade: Trade) -> list[dict[str, Any]]:
        if trade.order.clientId != self.client_id:
            return []
        return list(self._warnings.get(trade.order.orderId, ()))

    def fill_seen(self) -> None:
        self.fills_version += 1

    # --- snapshots ----------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        return sorted(self._rows.values(), key=lambda row: row["permId"])

    def finished_orders(self) -> list[dict[str, Any]]:
        """The orders that finished last (newest first), in the journal's
        shape (journal.services.order_record's data, with IB's times)."""
        self._finished_changed = False
        self._finished_published = time.monotonic()
        return [record for _, record in reversed(self._finished.values())]

    def orders_snapshot(self) -> dict[str, Any]:
        """The orders as they are now, to publish before answering, so a
        client reading right after an order sees it."""
        self.seq += 1
        return {"_seq": self.seq, **self.order_sections()}

    def order_sections(self) -> dict[str, Any]:
        """The mirror's sections of orders to publish now: the working orders
        always, the finished ones when they changed (or were not published
        for a while: a restarted Redis gets them back)."""
        sections: dict[str, Any] = {"orders": self.orders()}
        stale = time.monotonic() - self._finished_published > FINISHED_REPUBLISH_EVERY
        if self._finished_changed or stale:
            sections["finished_orders"] = self.finished_orders()
        return sections

    def snapshot(self, ib: IB, account: str, sections: Iterable[str] = SECTIONS) -> dict[str, Any]:
        """The mirror's sections (those named) as they are now."""
        self.seq += 1
        out: dict[str, Any] = {"_seq": self.seq}
        for section in sections:
            if section == "account":
                out[section] = mapping.account_summary(ib.accountValues(account), account)
            elif section == "positions":
                out[section] = mapping.position_rows(ib.positions(account), ib.portfolio(account))
            elif section == "orders":
                out.update(self.order_sections())
            elif section == "executions":
                # The newest fills only: the journal holds the history, the
                # mirror just covers what the journal may not have stored yet.
                out[section] = self.executions(ib)[:MIRROR_EXECUTIONS]
            elif section == "pnl":
                out[section] = pnl_section(ib, account)
        return out

    def executions(self, ib: IB) -> list[dict[str, Any]]:
        key = (len(ib.wrapper.fills), self.fills_version, len(ib.wrapper.trades))
        if key != self._executions_key:
            rows = mapping.execution_rows(ib.fills(), self.requested_exec_ids)
            self._executions_key, self._executions = key, rows
        return self._executions

"""Changes to orders that stand at IB: cancel one, cancel every client's
(IB's global cancel), modify one in place; every path ends in an Outcome
(trading.wire).  ``OrderSignals`` carries IB's messages on orders to whoever
waits for them (here and trading.gateway.orders, which places orders)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from ib_async import Trade

from journal.vocabulary import WORKING_STATUSES
from trading.gateway import codes, mapping
from trading.gateway.connection import Connection
from trading.gateway.order_building import change_refusal, modified
from trading.gateway.session import Session
from trading.wire import Outcome, OutcomeKind

log = logging.getLogger("trading.gateway")

NOT_LISTED = "IB Gateway did not list its open orders in time; nothing was sent"
MAX_CANCELS_KEPT = 10_000  # permIds of cancels sent, remembered (then forgotten at once)


def rejection_kind(code: int, message: str) -> OutcomeKind:
    """IB's margin refusal, or another rejection."""
    if codes.refuses_funds(code, message):
        return OutcomeKind.INSUFFICIENT_FUNDS
    return OutcomeKind.REJECTED


class OrderSignals:
    """IB's messages on orders (gateway loop): a warning is recorded on the
    order and never cancels it; a rejection or a refused cancel is kept by
    order id for the request that waits on it; any order event wakes it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.errors: dict[int, tuple[int, str]] = {}  # order id -> IB's rejection
        self.changed = asyncio.Event()

    def on_order_message(self, order_id: int, code: int, message: str) -> None:
        meaning = codes.meaning(code)
        if meaning is codes.Meaning.WARNING:
            log.info("IB warning %s on order %s: %s", code, order_id, message)
            self.session.warn(order_id, code, message)
        elif meaning in (codes.Meaning.REJECTION, codes.Meaning.CANCEL_REFUSED):
            self.errors[order_id] = (code, message)
        self.changed.set()

    def on_order_event(self, *args: Any) -> None:
        self.changed.set()

    async def wait_for_change(self, timeout: float) -> None:
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout=timeout)


class OrderChanges:
    def __init__(self, *, connection: Connection, session: Session, signals: OrderSignals) -> None:
        self.connection = connection
        self.ib = connection.ib
        self.session = session
        self.signals = signals
        self.listing = asyncio.Lock()  # reqAllOpenOrders, one at a time
        # permIds whose cancel this service sent (IB's status does not say who
        # cancelled: the others ended at the close expired, trading.gateway.expiry).
        self.cancels_sent: set[int] = set()

    def send_cancel(self, trade: Trade) -> None:
        """Cancel, remembering the order and its children (IB cancels them
        with it) as cancelled on request."""
        order = trade.order
        if len(self.cancels_sent) > MAX_CANCELS_KEPT:
            self.cancels_sent.clear()
        self.cancels_sent.add(order.permId)
        self.cancels_sent.update(
            t.order.permId
            for t in self.ib.openTrades()
            if t.order.parentId == order.orderId and t.order.clientId == order.clientId
        )
        self.ib.cancelOrder(order)

    def cancel_legs(self, trades: list[Trade]) -> None:
        for trade in trades:
            if not mapping.is_finished(trade):
                try:
                    self.send_cancel(trade)
                except Exception:  # best effort: the order may already be gone
                    log.exception("cancelling leg %s failed", trade.order.orderId)

    def _find(self, perm_id: int) -> Trade | None:
        return next((t for t in self.ib.trades() if t.order.permId == perm_id), None)

    async def _working(self, perm_id: int) -> Trade | None:
        """The working order with this permId, or None; TimeoutError when the
        gateway did not list its open orders in time."""
        trade = self._find(perm_id)
        if trade is None or mapping.is_finished(trade):
            # Placed by another client, or before a restart: ask the gateway.
            # One request at a time: ib_async collects every answer of
            # reqAllOpenOrders in one list, so two at once lose one.
            async with self.listing:
                await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), settings.IB_REQUEST_TIMEOUT)
            trade = self._find(perm_id)
        if trade is None or mapping.order_status(trade) not in WORKING_STATUSES:
            return None
        return trade

    async def cancel(self, perm_id: int, deadline: float) -> Outcome:
        if not self.connection.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        not_found = Outcome.fail(OutcomeKind.NOT_FOUND, "Order not found or already filled")
        try:
            trade = await self._working(perm_id)
        except TimeoutError:
            return Outcome.fail(OutcomeKind.TIMEOUT, NOT_LISTED)
        if trade is None:
            return not_found
        order_id = trade.order.orderId
        self.signals.errors.pop(order_id, None)
        self.send_cancel(trade)
        try:
            while True:
                status = mapping.order_status(trade)
                if status in ("Cancelled", "ApiCancelled"):
                    return Outcome.done(perm_id=perm_id)
                if status in ("Filled", "Inactive"):
                    return not_found
                error = self.signals.errors.get(order_id)
                if error is not None and codes.meaning(error[0]) is codes.Meaning.CANCEL_REFUSED:
                    return Outcome.fail(OutcomeKind.NOT_FOUND, not_found["message"], error[0])
                remaining = deadline - time.time()
                if remaining <= 0:
                    return Outcome.fail(
                        OutcomeKind.TIMEOUT, "IB Gateway did not confirm the cancellation in time"
                    )
                await self.signals.wait_for_change(remaining)
        finally:
            self.signals.errors.pop(order_id, None)

    # --- modifying -----------------------------------------------------------------

    async def modify(self, perm_id: int, changes: dict[str, Any], deadline: float) -> Outcome:
        """Change a working order in place (same orderId, same permId): done
        once IB sends the order back changed; failed when IB refuses the
        change (the order works on as it was)."""
        if not self.connection.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        try:
            trade = await self._working(perm_id)
        except TimeoutError:
            return Outcome.fail(OutcomeKind.TIMEOUT, NOT_LISTED)
        if trade is None:
            return Outcome.fail(OutcomeKind.NOT_FOUND, "Order not found or no longer open")
        if trade.order.clientId != self.ib.client.clientId:
            return Outcome.fail(
                OutcomeKind.REJECTED,
                "IB lets only the client that placed an order change it: cancel it and "
                "place a new one",
            )
        refusal = change_refusal(trade.order, changes)
        if refusal:
            return Outcome.fail(OutcomeKind.REJECTED, refusal)
        order = modified(trade.order, changes)
        order_id = order.orderId
        answered = asyncio.Event()

        def on_open_order(changed: Trade) -> None:
            if changed.order.orderId == order_id and changed.order.clientId == order.clientId:
                answered.set()

        self.signals.errors.pop(order_id, None)
        self.ib.openOrderEvent += on_open_order
        try:
            self.ib.placeOrder(trade.contract, order)
            while True:
                error = self.signals.errors.get(order_id)
                if error is not None:  # IB sends its refusal before the order as it was
                    return Outcome.fail(
                        rejection_kind(*error), f"Failed to replace order: {error[1]}", error[0]
                    )
                if answered.is_set():
                    # ib_async copies back some of IB's fields, not these.
                    trade.order.tif, trade.order.trailingPercent = order.tif, order.trailingPercent
                    self.session.track(trade)  # its row, as IB has it now
                    return Outcome.done(perm_id=perm_id)
                remaining = deadline - time.time()
                if remaining <= 0:
                    return Outcome.fail(
                        OutcomeKind.TIMEOUT,
                        "IB Gateway did not confirm the change in time; check the order "
                        "before retrying",
                    )
                await self.signals.wait_for_change(remaining)
        finally:
            self.ib.openOrderEvent -= on_open_order
            self.signals.errors.pop(order_id, None)

    async def cancel_global(self, deadline: float) -> Outcome:
        """IB's global cancel: every working order of every client (TWS too);
        done when none works any more."""
        if not self.connection.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        for trade in self.ib.openTrades():
            self.cancels_sent.add(trade.order.permId)
        self.ib.reqGlobalCancel()
        while True:
            working = [
                t for t in self.ib.openTrades() if mapping.order_status(t) in WORKING_STATUSES
            ]
            if not working:
                return Outcome.done()
            remaining = deadline - time.time()
            if remaining <= 0:
                return Outcome.fail(
                    OutcomeKind.TIMEOUT,
                    f"IB Gateway did not confirm the cancellation of {len(working)} orders in time",
                )
            await self.signals.wait_for_change(remaining)

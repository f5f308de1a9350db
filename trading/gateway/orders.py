"""Orders: build the legs, place them and wait for IB's acknowledgement,
cancel; every path ends in an Outcome (trading.wire).  IB's messages on an
order arrive through ``on_order_message``, and the code tables decide: a
warning is recorded on the order and never cancels it, a rejection fails it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from django.conf import settings
from ib_async import Contract, OrderState, Stock, Trade

from journal.vocabulary import CANCELLED_STATUSES, UNSENT_STATUSES, WORKING_STATUSES
from trading import risk
from trading.gateway import codes, mapping
from trading.gateway.connection import Connection
from trading.gateway.intents import InFlight, IntentStore
from trading.gateway.order_building import build_orders, change_refusal, modified
from trading.gateway.quotes import Quotes
from trading.gateway.session import Session
from trading.wire import Outcome, OutcomeKind

log = logging.getLogger("trading.gateway")

# Seconds an acknowledged order (permId known) may wait for its first status.
STATUS_GRACE = 0.25
NOT_SENT = "deadline passed before the order could be sent"
NOT_LISTED = "IB Gateway did not list its open orders in time; nothing was sent"
IMMEDIATE = frozenset({"IOC", "FOK"})  # times in force that end at once
MAX_CANCELS_KEPT = 10_000  # permIds of cancels sent, remembered (then forgotten at once)


class OrderDesk:
    def __init__(
        self,
        *,
        connection: Connection,
        session: Session,
        quotes: Quotes,
        intents: IntentStore,
        in_flight: InFlight,
    ) -> None:
        self.connection = connection
        self.quotes = quotes
        self.ib = connection.ib
        self.session = session
        self.intents = intents
        self.in_flight = in_flight
        self.contracts: dict[str, Contract] = {}
        self.errors: dict[int, tuple[int, str]] = {}  # order id -> IB's rejection
        self.changed = asyncio.Event()
        self.sending = asyncio.Lock()
        self.listing = asyncio.Lock()  # reqAllOpenOrders, one at a time
        # permIds whose cancel this service sent (IB's status does not say who
        # cancelled: the others ended at the close expired, trading.gateway.runtime).
        self.cancels_sent: set[int] = set()

    # --- events (gateway loop) -----------------------------------------------------

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

    def forget_contracts(self) -> None:
        self.contracts.clear()

    async def serve(self, op: str, args: dict[str, Any], deadline: float) -> Outcome:
        """One request (the order bus's, or a fallback Celery task's)."""
        if time.time() >= deadline:
            return Outcome.fail(OutcomeKind.EXPIRED, NOT_SENT)
        try:
            if op == "place":
                return await self.place(
                    args["kind"],
                    args["data"],
                    deadline,
                    args.get("request_id"),
                    live_scope=bool(args.get("live_scope")),
                )
            if op == "cancel":
                return await self.cancel(int(args["perm_id"]), deadline)
            if op == "modify":
                return await self.modify(int(args["perm_id"]), dict(args["changes"]), deadline)
            if op == "cancel_all":
                return await self.cancel_global(deadline)
            if op == "preview":
                return await self.preview(args["kind"], args["data"], deadline)
        except Exception:
            log.exception("%s request failed in the gateway worker", op)
            return Outcome.fail(
                OutcomeKind.WORKER_ERROR,
                "The gateway worker failed while handling the request; check GET /orders "
                "before retrying",
            )
        return Outcome.fail(OutcomeKind.WORKER_ERROR, f"unknown operation {op!r}")

    # --- placing -------------------------------------------------------------------

    async def place(
        self,
        kind: str,
        data: dict[str, Any],
        deadline: float,
        request_id: int | None = None,
        live_scope: bool = False,
    ) -> Outcome:
        if time.time() >= deadline:
            return Outcome.fail(OutcomeKind.EXPIRED, NOT_SENT)
        if not self.connection.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        mode = risk.trading_mode({"port": settings.IB_PORT, "account": self.connection.account})
        refusal = risk.live_refusal(mode, live_scope=live_scope)
        if refusal:
            # The web refuses these too, but it reads the mode from the
            # heartbeat as it sends the request: the worker has the last word.
            return Outcome.fail(OutcomeKind.LIVE_REFUSED, refusal)
        symbol = data["symbol"]
        try:
            contract = await self._qualify(symbol)
        except TimeoutError:
            return Outcome.fail(
                OutcomeKind.TIMEOUT, "IB Gateway did not answer the contract lookup in time"
            )
        if contract is None:
            return Outcome.fail(
                OutcomeKind.REJECTED,
                f"Failed to place {kind} order: Could not qualify contract for symbol: {symbol}",
                codes.NO_SECURITY,
            )
        if settings.MAX_ORDER_NOTIONAL and not risk.priced(data):
            price = await self.quotes.reference_price(
                contract, data["action"], account=self.connection.account, deadline=deadline
            )
            refusal = risk.notional_refusal(
                quantity=float(data["quantity"]), price=price, symbol=symbol
            )
            if refusal:
                return Outcome.fail(OutcomeKind.LIMIT_EXCEEDED, refusal)
        # Ids are taken, recorded and sent in one go, one request at a time:
        # IB refuses an id lower than one already sent (error 103), and the
        # loop serves other requests while Redis records the intent.
        async with self.sending:
            if time.time() >= deadline:
                return Outcome.fail(OutcomeKind.EXPIRED, NOT_SENT)
            if not self.connection.ready():
                return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
            orders = build_orders(
                kind, data, account=self.connection.account, next_id=self.ib.client.getReqId
            )
            ids = [order.orderId for order in orders]
            if request_id is not None:
                refused = await self._record_intent(request_id, ids)
                if refused is not None:
                    return refused
                if not self.connection.ready():  # lost while Redis recorded the intent
                    return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
            trades = [self.ib.placeOrder(contract, order) for order in orders]
        try:
            return await self._wait_for_ack(kind, trades, deadline)
        finally:
            for order_id in ids:
                self.errors.pop(order_id, None)

    async def _record_intent(self, request_id: int, ids: list[int]) -> Outcome | None:
        """Record the intent before anything is sent: a worker dying from here
        on leaves a trace the next worker reconciles (trading.gateway.reconcile).
        In flight first, so a reconnect meanwhile does not take it for an orphan."""
        self.in_flight.add(request_id)
        try:
            await self.intents.add(request_id, settings.IB_CLIENT_ID, ids)
        except Exception:  # Redis down: do not send what could not be traced
            self.in_flight.discard(request_id)
            log.warning("could not record an order intent", exc_info=True)
            return Outcome.fail(
                OutcomeKind.STATE_STORE,
                "The order was not sent: the worker could not record it in Redis",
            )
        return None

    async def _qualify(self, symbol: str) -> Contract | None:
        contract = self.contracts.get(symbol)
        if contract is not None:
            return contract
        details = await asyncio.wait_for(
            self.ib.reqContractDetailsAsync(Stock(symbol, "SMART", "USD")),
            settings.IB_REQUEST_TIMEOUT,
        )
        if not details or details[0].contract is None:
            return None
        contract = details[0].contract
        contract.exchange = "SMART"
        self.contracts[symbol] = contract
        return contract

    async def _wait_for_ack(self, kind: str, trades: list[Trade], deadline: float) -> Outcome:
        ids = [trade.order.orderId for trade in trades]
        acked_at = 0.0
        while True:
            failure = next((self.errors[i] for i in ids if i in self.errors), None)
            if failure is not None:
                self._cancel_all(trades)
                code, message = failure
                return Outcome.fail(
                    _rejection(code, message), f"Failed to place {kind} order: {message}", code
                )
            ended = [t for t in trades if mapping.order_status(t) in CANCELLED_STATUSES]
            acked = all(t.order.permId for t in trades)
            if ended and not (acked and all(_ran_out(t) for t in ended)):
                self._cancel_all(trades)
                return Outcome.fail(
                    OutcomeKind.REJECTED, f"Failed to place {kind} order: {_why(ended[0])}"
                )
            if acked:
                # IB sends the order's status right after its permId: wait for
                # it (briefly, never past the deadline: the order stands), so
                # the orders published with the answer show PreSubmitted or
                # Submitted, not PendingSubmit.
                acked_at = acked_at or time.monotonic()
                remaining = min(
                    STATUS_GRACE - (time.monotonic() - acked_at), deadline - time.time()
                )
                unsent = any(mapping.order_status(t) in UNSENT_STATUSES for t in trades)
                if remaining <= 0 or not unsent:
                    return Outcome.done(
                        perm_ids=[t.order.permId for t in trades],
                        order_ids=ids,
                        statuses=[mapping.order_status(t) for t in trades],
                        warnings=[w for t in trades for w in self.session.warnings(t)],
                    )
            else:
                remaining = deadline - time.time()
                if remaining <= 0:
                    self._cancel_all(trades)
                    return Outcome.fail(
                        OutcomeKind.TIMEOUT,
                        "IB Gateway did not acknowledge the order in time; "
                        "it was cancelled in case it reached IB",
                    )
            await self._wait_for_change(remaining)

    async def _wait_for_change(self, timeout: float) -> None:
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout=timeout)

    def _send_cancel(self, trade: Trade) -> None:
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

    def _cancel_all(self, trades: list[Trade]) -> None:
        for trade in trades:
            if not mapping.is_finished(trade):
                try:
                    self._send_cancel(trade)
                except Exception:  # best effort: the order may already be gone
                    log.exception("cancelling leg %s failed", trade.order.orderId)

    # --- cancelling ----------------------------------------------------------------

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
        self.errors.pop(order_id, None)
        self._send_cancel(trade)
        try:
            while True:
                status = mapping.order_status(trade)
                if status in ("Cancelled", "ApiCancelled"):
                    return Outcome.done(perm_id=perm_id)
                if status in ("Filled", "Inactive"):
                    return not_found
                error = self.errors.get(order_id)
                if error is not None and codes.meaning(error[0]) is codes.Meaning.CANCEL_REFUSED:
                    return Outcome.fail(OutcomeKind.NOT_FOUND, not_found["message"], error[0])
                remaining = deadline - time.time()
                if remaining <= 0:
                    return Outcome.fail(
                        OutcomeKind.TIMEOUT, "IB Gateway did not confirm the cancellation in time"
                    )
                await self._wait_for_change(remaining)
        finally:
            self.errors.pop(order_id, None)

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

        self.errors.pop(order_id, None)
        self.ib.openOrderEvent += on_open_order
        try:
            self.ib.placeOrder(trade.contract, order)
            while True:
                error = self.errors.get(order_id)
                if error is not None:  # IB sends its refusal before the order as it was
                    return Outcome.fail(
                        _rejection(*error), f"Failed to replace order: {error[1]}", error[0]
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
                await self._wait_for_change(remaining)
        finally:
            self.ib.openOrderEvent -= on_open_order
            self.errors.pop(order_id, None)

    async def preview(self, kind: str, data: dict[str, Any], deadline: float) -> Outcome:
        """IB's what-if of the request's first order: commission and what it
        would do to the margins and the equity with loan; nothing is placed."""
        if not self.connection.ready():
            return Outcome.fail(OutcomeKind.UNAVAILABLE, "Failed to connect to IB Gateway")
        try:
            contract = await self._qualify(data["symbol"])
        except TimeoutError:
            contract = None
        if contract is None:
            return Outcome.fail(
                OutcomeKind.REJECTED,
                f"Failed to preview {kind} order: Could not qualify contract for symbol: "
                f"{data['symbol']}",
                codes.NO_SECURITY,
            )
        async with self.sending:  # ids rising, as for an order
            order = build_orders(
                kind, data, account=self.connection.account, next_id=self.ib.client.getReqId
            )[0]
            order.transmit = True
            # whatIfOrderAsync takes the next id, with no await in between.
            request_id = order.orderId + 1
            answer = self.ib.whatIfOrderAsync(contract, order)
        try:
            state = await asyncio.wait_for(answer, max(deadline - time.time(), 0.01))
        except TimeoutError:
            state = None
        finally:
            error = self.errors.pop(request_id, None)
        if error is not None:
            return Outcome.fail(
                OutcomeKind.REJECTED, f"Failed to preview {kind} order: {error[1]}", error[0]
            )
        if not isinstance(state, OrderState) or not state.initMarginAfter:
            return Outcome.fail(
                OutcomeKind.TIMEOUT, "IB Gateway did not answer the what-if request in time"
            )
        return Outcome.done(preview=_what_if(state))

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
            await self._wait_for_change(remaining)


WHAT_IF_FIELDS = {
    "commission": "commission",
    "min_commission": "minCommission",
    "max_commission": "maxCommission",
    "init_margin_before": "initMarginBefore",
    "init_margin_change": "initMarginChange",
    "init_margin_after": "initMarginAfter",
    "maint_margin_before": "maintMarginBefore",
    "maint_margin_change": "maintMarginChange",
    "maint_margin_after": "maintMarginAfter",
    "equity_with_loan_before": "equityWithLoanBefore",
    "equity_with_loan_change": "equityWithLoanChange",
    "equity_with_loan_after": "equityWithLoanAfter",
}


def _what_if(state: OrderState) -> dict[str, Any]:
    """IB's what-if answer: numbers (IB sends the margins as text; unset: None)."""

    def number(value: Any) -> float | None:
        try:
            return mapping.known(float(value))
        except (TypeError, ValueError):
            return None

    out: dict[str, Any] = {name: number(getattr(state, ib)) for name, ib in WHAT_IF_FIELDS.items()}
    out["commission_currency"] = state.commissionCurrency or None
    out["warning_text"] = state.warningText or ""
    return out


def _rejection(code: int, message: str) -> OutcomeKind:
    if codes.refuses_funds(code, message):
        return OutcomeKind.INSUFFICIENT_FUNDS
    return OutcomeKind.REJECTED


def _ran_out(trade: Trade) -> bool:
    """An IOC or FOK order IB accepted and cancelled at once, unfilled or
    for its rest: placed, and done (its time in force), not refused."""
    return trade.order.tif in IMMEDIATE and mapping.order_status(trade) == "Cancelled"


def _why(trade: Trade) -> str:
    for entry in reversed(trade.log):
        if entry.errorCode and codes.meaning(entry.errorCode) is codes.Meaning.REJECTION:
            return entry.message
    return f"order {trade.orderStatus.status.lower()}"

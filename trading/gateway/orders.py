"""Orders: build the legs, place them and wait for IB's acknowledgement;
IB's what-if; the requests of the order bus, served here or by the changes
to standing orders (trading.gateway.order_changes).  Every path ends in an
Outcome (trading.wire)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from django.conf import settings
from ib_async import Contract, OrderState, Stock, Trade

from journal.vocabulary import CANCELLED_STATUSES, UNSENT_STATUSES
from trading import risk
from trading.gateway import codes, mapping
from trading.gateway.connection import Connection
from trading.gateway.intents import InFlight, IntentStore
from trading.gateway.order_building import build_orders
from trading.gateway.order_changes import OrderChanges, OrderSignals, rejection_kind
from trading.gateway.quotes import Quotes
from trading.gateway.session import Session
from trading.wire import Outcome, OutcomeKind

log = logging.getLogger("trading.gateway")

# Seconds an acknowledged order (permId known) may wait for its first status.
STATUS_GRACE = 0.25
NOT_SENT = "deadline passed before the order could be sent"
IMMEDIATE = frozenset({"IOC", "FOK"})  # times in force that end at once
WHAT_IF_REFUSAL_GRACE = 2.0  # seconds a what-if short of margin waits for IB's 201


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
        self.signals = OrderSignals(session)
        self.errors = self.signals.errors  # order id -> IB's rejection
        self.changes = OrderChanges(connection=connection, session=session, signals=self.signals)
        self.sending = asyncio.Lock()

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
                return await self.changes.cancel(int(args["perm_id"]), deadline)
            if op == "modify":
                perm_id, changes = int(args["perm_id"]), dict(args["changes"])
                return await self.changes.modify(perm_id, changes, deadline)
            if op == "cancel_all":
                return await self.changes.cancel_global(deadline)
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
                self.changes.cancel_legs(trades)
                code, message = failure
                return Outcome.fail(
                    rejection_kind(code, message), f"Failed to place {kind} order: {message}", code
                )
            ended = [t for t in trades if mapping.order_status(t) in CANCELLED_STATUSES]
            acked = all(t.order.permId for t in trades)
            if ended and not (acked and all(_ran_out(t) for t in ended)):
                self.changes.cancel_legs(trades)
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
                        # the qualified contract's: /v2's asset id, with no lookup
                        con_ids=[t.contract.conId or None for t in trades],
                        order_ids=ids,
                        statuses=[mapping.order_status(t) for t in trades],
                        warnings=[w for t in trades for w in self.session.warnings(t)],
                    )
            else:
                remaining = deadline - time.time()
                if remaining <= 0:
                    self.changes.cancel_legs(trades)
                    return Outcome.fail(
                        OutcomeKind.TIMEOUT,
                        "IB Gateway did not acknowledge the order in time; "
                        "it was cancelled in case it reached IB",
                    )
            await self.signals.wait_for_change(remaining)

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
            if isinstance(state, OrderState) and _short_of_margin(state):
                # IB answers such an order, then refuses it (201): wait for that.
                end = min(deadline, time.time() + WHAT_IF_REFUSAL_GRACE)
                while request_id not in self.errors and time.time() < end:
                    await self.signals.wait_for_change(end - time.time())
        except TimeoutError:
            state = None
        finally:
            error = self.errors.pop(request_id, None)
        if error is not None:
            return Outcome.fail(
                rejection_kind(*error), f"Failed to preview {kind} order: {error[1]}", error[0]
            )
        if not isinstance(state, OrderState) or not state.initMarginAfter:
            return Outcome.fail(
                OutcomeKind.TIMEOUT, "IB Gateway did not answer the what-if request in time"
            )
        return Outcome.done(preview=_what_if(state))


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


def _short_of_margin(state: OrderState) -> bool:
    """Whether the what-if's equity with loan after stays below its initial
    margin after: IB then refuses the order after answering it."""
    try:
        return float(state.equityWithLoanAfter) < float(state.initMarginAfter)
    except (TypeError, ValueError):
        return False


def _ran_out(trade: Trade) -> bool:
    """An IOC or FOK order IB accepted and cancelled at once, unfilled or
    for its rest: placed, and done (its time in force), not refused."""
    return trade.order.tif in IMMEDIATE and mapping.order_status(trade) == "Cancelled"


def _why(trade: Trade) -> str:
    for entry in reversed(trade.log):
        if entry.errorCode and codes.meaning(entry.errorCode) is codes.Meaning.REJECTION:
            return entry.message
    return f"order {trade.orderStatus.status.lower()}"

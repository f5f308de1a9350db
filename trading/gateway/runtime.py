"""The gateway worker's composition root: one asyncio loop in a thread of the
Celery worker, and the parts it wires together with callbacks.

    connection   the IB client, kept connected; IB's messages by code
    session      working orders, warnings and fills, as the mirror shows them
    orders       placing (and order_changes: cancel, modify), each an Outcome
    lookups      /v2's clock, trading hours, contract details; expiry: DAY orders
    reconcile    orphan intents of a worker that died mid-order
    publisher    the state mirror's writes (a thread)
    journal_feed IB's events into the journal (a thread)
    history      the day's executions and orders, for the journal's sync
    intake       the order bus's end on the loop, where Redis carries it

No part imports this module; the Celery tasks (trading.gateway.tasks) reach
the one runtime through ``get_runtime``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from django.conf import settings

from trading import wire
from trading.gateway import mapping
from trading.gateway.connection import Connection, DecoderTaps
from trading.gateway.expiry import Expiry
from trading.gateway.history import history_fetch
from trading.gateway.intake import Intake
from trading.gateway.intents import InFlight, intent_store
from trading.gateway.journal_feed import JournalFeed
from trading.gateway.lookups import OPERATIONS as LOOKUPS
from trading.gateway.lookups import Lookups
from trading.gateway.orders import OrderDesk
from trading.gateway.pnl import pnl_subscribe
from trading.gateway.publisher import Publisher
from trading.gateway.quotes import Quotes
from trading.gateway.reconcile import orphans_reconcile
from trading.gateway.session import Session
from trading.wire import SECTIONS, Outcome

log = logging.getLogger("trading.gateway")
T = TypeVar("T")

PUBLISH_RETRY_S = 0.5  # seconds between tries of a snapshot that could not be taken yet


class GatewayRuntime:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="ib-gateway", daemon=True)
        self.session = Session(settings.IB_CLIENT_ID)
        self.taps = DecoderTaps(on_commission=self.session.fill_seen)
        self.connection = Connection(
            taps=self.taps,
            on_connected=self._after_connect,
            on_disconnected=self._on_disconnected,
            on_order_message=self._on_order_message,
            on_state=lambda: self.publisher.beat(),
        )
        self.ib = self.connection.ib
        self.intents = intent_store()
        self.in_flight = InFlight()
        self.quotes = Quotes(self.ib)
        self.desk = OrderDesk(
            connection=self.connection,
            session=self.session,
            quotes=self.quotes,
            intents=self.intents,
            in_flight=self.in_flight,
        )
        self.publisher = Publisher(heartbeat=self.connection.heartbeat)
        self.lookups = Lookups(
            self.ib,
            ready=self.connection.ready,
            publish=self.publisher.offer,
            current_time=self.connection.current_time,
        )
        self.expiry = Expiry(
            lookups=self.lookups,
            session=self.session,
            cancels_sent=self.desk.changes.cancels_sent,
            expired=self._on_expired,
        )
        self.journal = JournalFeed(
            fetch_history=self.fetch_history,
            quiet=lambda: self.intake is None or not self.intake.busy,
        )
        self.intake: Intake | None = None
        if wire.uses_redis():
            self.intake = Intake(
                serve=self.serve,
                orders=self.session.order_sections,
                finished=lambda ids: self.in_flight.discard(*ids),
            )
        self.dirty: set[str] = set()  # sections of the mirror to publish
        self.changed = asyncio.Event()
        self._subscribe()

    def _subscribe(self) -> None:
        ib = self.ib
        ib.execDetailsEvent += self._on_execution
        ib.commissionReportEvent += self._on_commission
        ib.openOrderEvent += self._on_order
        ib.orderStatusEvent += self._on_order
        for event in (ib.openOrderEvent, ib.orderStatusEvent, ib.execDetailsEvent):
            event += self.desk.signals.on_order_event
        # Each event changes one section; an order's own events only "orders".
        ib.accountValueEvent += lambda *_: self._on_change("account")
        ib.updatePortfolioEvent += lambda *_: self._on_change("positions")
        ib.positionEvent += lambda *_: self._on_change("positions")
        ib.pnlEvent += lambda *_: self._on_change("pnl")

    # --- lifecycle (from the worker's main thread) ------------------------------------

    def start(self) -> None:
        self.publisher.start()
        self.journal.start()
        self.thread.start()

    def stop(self) -> None:
        if self.intake is not None:
            self.intake.running = False  # takes no new request
        self.connection.stopping = True
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self._shutdown)
        self.thread.join(5)
        self.publisher.stop()
        self.journal.stop()

    def _shutdown(self) -> None:
        self.connection.close()
        for task in asyncio.all_tasks(self.loop):
            task.cancel()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run a coroutine on the gateway loop from another thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        tasks = [
            asyncio.create_task(self._publish_loop()),
            asyncio.create_task(self.lookups.run()),
        ]
        if self.intake is not None:
            tasks.append(asyncio.create_task(self.intake.run()))
        try:
            await self.connection.run()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- the connection's callbacks (gateway loop) -------------------------------------

    async def _after_connect(self) -> None:
        ib = self.ib
        self.quotes.on_connected()
        # A master client (clientId 0) also sees orders of other clients and TWS.
        await ib.reqAllOpenOrdersAsync()
        fills = await ib.reqExecutionsAsync()
        self.session.requested_exec_ids = {f.execution.execId for f in fills}
        await ib.reqCompletedOrdersAsync(apiOnly=False)
        self.session.track_all(ib.trades())
        pnl_subscribe(ib, self.connection.account)
        self._on_change(*SECTIONS)
        self.journal.put(("sync", "connect"))
        # The market section before the first read (briefly: it must not hold
        # up the connection; the lookups' loop tries again every second).
        await self.lookups.refresh_quietly(timeout=2.0)
        orphans_reconcile(
            ib=ib, intents=self.intents, in_flight=self.in_flight, report=self._reconciled
        )

    def _reconciled(self, request_id: int, state: str, perm_ids: list[int]) -> None:
        self.journal.put(("audit", {"id": request_id, "state": state, "perm_ids": perm_ids}))

    def _on_disconnected(self) -> None:
        self.desk.forget_contracts()
        self.lookups.forget()
        self.quotes.forget()
        self.session.forget_orders()

    def _on_order_message(self, order_id: int, code: int, message: str) -> None:
        self.desk.signals.on_order_message(order_id, code, message)
        self._on_change("orders")  # a warning shows on the order's row

    # --- IB's events (gateway loop) ----------------------------------------------------

    def _on_execution(self, trade: Any, fill: Any) -> None:
        self.session.fill_seen()
        data = mapping.execution_data(
            fill,
            ib_time=self.taps.raw_time(fill.execution.execId),
            pnl_unset=self.taps.pnl_unset(fill.execution.execId),
        )
        self.journal.put(("execution", data))
        self._on_change("executions")

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        self.session.fill_seen()
        data = mapping.commission_data(report, pnl_unset=self.taps.pnl_unset(report.execId))
        self.journal.put(("commission", {"exec_id": report.execId, **data}))
        self._on_change("executions")

    def _on_order(self, trade: Any) -> None:
        self.session.track(trade)
        if trade.order.permId:
            self.journal.put(("order", mapping.order_data(trade)))
            self.expiry.on_order(trade)
        self._on_change("orders")

    def _on_expired(self, trade: Any) -> None:
        self.journal.put(("order", mapping.order_data(trade, expired=True)))
        self._on_change("orders")

    def _on_change(self, *sections: str) -> None:
        if self.intake is not None and "orders" in sections:
            self.intake.orders_changed()  # it publishes them (with the answers)
            sections = tuple(s for s in sections if s != "orders")
        if sections:
            self.dirty.update(sections)
            self.changed.set()

    async def _publish_loop(self) -> None:
        """Changed sections to the publisher thread, a burst of events at once.
        While the connection is being made the sections stay due: the
        connect callback marks every section changed before it is done, and
        a section dropped then (it was: the account's) stayed unpublished
        until IB next reported it, /account answering 503 meanwhile.  A
        snapshot that fails is logged and taken again, never the loop's end."""
        while True:
            await self.changed.wait()
            await asyncio.sleep(0.02)
            if not self.connection.connected:
                await asyncio.sleep(PUBLISH_RETRY_S)  # still due: ``changed`` stays set
                continue
            self.changed.clear()
            sections, self.dirty = self.dirty, set()
            try:
                snapshot = self.session.snapshot(self.ib, self.connection.account, sections)
            except Exception:
                log.exception(
                    "could not take the gateway's state (%s)", ", ".join(sorted(sections))
                )
                self.dirty.update(sections)
                await asyncio.sleep(PUBLISH_RETRY_S)
                self.changed.set()
                continue
            self.publisher.offer(snapshot)

    # --- requests ----------------------------------------------------------------------

    async def serve(self, op: str, args: dict[str, Any], deadline: float) -> Outcome:
        """One request of the order bus (or of a fallback Celery task)."""
        if op in LOOKUPS:
            return await self.lookups.serve(op, args, deadline)
        return await self.desk.serve(op, args, deadline)

    def serve_from_task(self, op: str, args: dict[str, Any], deadline: float) -> Outcome:
        """From a Celery task's thread (the serverless fallback): serve, then
        forget the intent and publish the orders before the answer goes."""
        request_id = args.get("request_id")
        try:
            outcome = self.call(
                self.serve(op, args, deadline), timeout=max(deadline - time.time(), 0) + 5
            )
        finally:
            if request_id is not None:
                with contextlib.suppress(Exception):
                    self.intents.done(request_id)
                self.in_flight.discard(request_id)
        self.publisher.write(self.call(self._orders_now(), timeout=5))
        return outcome

    async def _orders_now(self) -> dict[str, Any]:
        return self.session.orders_snapshot()

    def fetch_history(self) -> dict[str, list[dict[str, Any]]]:
        """From another thread: the gateway's executions and orders of the day."""
        if not self.connection.ready():
            raise ConnectionError("Failed to connect to IB Gateway")
        fetch = history_fetch(ib=self.ib, taps=self.taps, session=self.session)
        return self.call(fetch, timeout=3 * settings.IB_REQUEST_TIMEOUT)


_runtime: GatewayRuntime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> GatewayRuntime:
    """The worker's one runtime, started on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = GatewayRuntime()
            _runtime.start()
        return _runtime


def stop_runtime() -> None:
    global _runtime
    with _runtime_lock:
        if _runtime is not None:
            _runtime.stop()
            _runtime = None

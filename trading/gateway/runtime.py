"""The gateway runtime: one ib_async client on an asyncio loop in a thread of
the gateway worker.  Tasks call ``place`` / ``cancel`` from their own threads;
everything touching ib_async runs on the loop."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from django.conf import settings
from ib_async import (
    IB,
    CommissionReport,
    Contract,
    Fill,
    LimitOrder,
    MarketOrder,
    Order,
    Stock,
    StopOrder,
    Trade,
)
from ib_async.util import UNSET_DOUBLE

from trading import mirror
from trading.gateway import mapping
from trading.gateway.intents import intent_store

log = logging.getLogger("trading.gateway")
T = TypeVar("T")

MIRROR_EXECUTIONS = 500  # newest session fills kept in the mirror
WRITER_PAUSE = 0.005  # seconds the journal writer yields before a write
FULL_REPUBLISH_EVERY = 10.0
# Seconds an acknowledged order (permId known) may wait for its first status.
STATUS_GRACE = 0.25
UNSENT = ("PendingSubmit", "ApiPending")  # seconds between full republishes of an unchanged state


def _price(value: Any) -> float | None:
    if value is None or value == UNSET_DOUBLE or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _number(value: Any) -> float | int:
    """Whole quantities as ints (10, not 10.0), as the guide shows them."""
    return int(value) if float(value).is_integer() else float(value)


class Outcome(dict[str, Any]):
    """What a task returns (JSON): ``{"ok": True, ...}`` or
    ``{"ok": False, "kind": "unavailable|timeout|rejected|expired|not_found", "message": ...}``."""

    @classmethod
    def fail(cls, kind: str, message: str, code: int = 0) -> Outcome:
        return cls(ok=False, kind=kind, message=message, code=code)


class GatewayRuntime:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="ib-gateway", daemon=True)
        self.ib: IB | None = None
        self.contracts: dict[str, Contract] = {}
        self.connected = False
        self.server_version = 0
        self.account = ""
        self.last_error = ""
        self.dirty: asyncio.Event | None = None
        self.changed: asyncio.Event | None = None
        self.order_errors: dict[int, tuple[int, str]] = {}
        self.request_exec_ids: set[str] = set()
        self.seq = 0
        self.fills_version = 0
        # Working orders by permId, one API row each, kept up to date by the
        # order events: publishing them before every answer costs a sort, not a
        # walk over every trade of the session.
        self._open_rows: dict[int, dict[str, Any]] = {}
        self._executions_version: tuple[int, int, int] = (-1, -1, -1)
        self._executions_rows: list[dict[str, Any]] = []
        self.publisher = _Publisher(self)
        self.journal = _JournalWriter(self)
        self.raw_times: dict[str, str] = {}
        self.intents = intent_store()
        self.in_flight: set[int] = set()
        self.unset_pnl: set[str] = set()
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._publisher_task: asyncio.Task[None] | None = None

    # --- lifecycle (called from the worker's main thread) ---------------------

    def start(self) -> None:
        self.publisher.start()
        self.journal.start()
        self.thread.start()

    def stop(self) -> None:
        self._stopping = True
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self._shutdown)
        self.thread.join(5)
        self.publisher.stop()
        self.journal.stop()

    def _shutdown(self) -> None:
        if self.ib is not None and self.ib.isConnected():
            self.ib.disconnect()
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
        self.dirty = asyncio.Event()
        self.changed = asyncio.Event()
        self._wake = asyncio.Event()
        self.ib = ib = IB()
        ib.RequestTimeout = settings.IB_REQUEST_TIMEOUT
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected
        self._hook_decoder(ib)
        ib.execDetailsEvent += self._on_execution
        ib.commissionReportEvent += self._on_commission
        ib.openOrderEvent += self._on_order
        ib.orderStatusEvent += self._on_order
        for event in (
            ib.openOrderEvent,
            ib.orderStatusEvent,
            ib.execDetailsEvent,
            ib.commissionReportEvent,
            ib.accountValueEvent,
            ib.updatePortfolioEvent,
            ib.positionEvent,
        ):
            event += self._on_change
        self._publisher_task = asyncio.create_task(self._publish_loop())
        await self._connection_loop()

    # --- connection -------------------------------------------------------------

    async def _connection_loop(self) -> None:
        assert self.ib is not None
        assert self._wake is not None
        delay = 0.25
        while not self._stopping:
            if not self.ib.isConnected():
                self.connected = False
                self.publisher.beat()
                try:
                    await self.ib.connectAsync(
                        settings.IB_HOST,
                        settings.IB_PORT,
                        clientId=settings.IB_CLIENT_ID,
                        timeout=settings.IB_CONNECT_TIMEOUT,
                        account=settings.IB_ACCOUNT,
                        raiseSyncErrors=True,
                    )
                    await self._after_connect()
                    delay = 0.25
                except Exception as exc:  # any failure to connect means: retry later
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("IB Gateway connect failed (%s); retrying in %.1fs", exc, delay)
                    if self.ib.isConnected():
                        self.ib.disconnect()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, settings.IB_RECONNECT_MAX_DELAY)
                    continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def _after_connect(self) -> None:
        assert self.ib is not None
        ib = self.ib
        self.server_version = ib.client.serverVersion()
        accounts = ib.managedAccounts()
        self.account = settings.IB_ACCOUNT or (accounts[0] if accounts else "")
        # A master client (clientId 0) also sees orders of other clients and TWS.
        await ib.reqAllOpenOrdersAsync()
        fills = await ib.reqExecutionsAsync()
        self.request_exec_ids = {f.execution.execId for f in fills}
        await ib.reqCompletedOrdersAsync(apiOnly=False)
        self._track_all()
        self.connected = True
        self.last_error = ""
        log.info(
            "connected to IB Gateway %s:%s (server version %s, account %s)",
            settings.IB_HOST,
            settings.IB_PORT,
            self.server_version,
            self.account,
        )
        self._on_change()
        self.publisher.beat()
        self.journal.put(("sync", "connect"))
        self._reconcile_intents()

    def _reconcile_intents(self) -> None:
        """Orders of requests whose worker died mid-order: cancel what still
        works (its client was told it failed), record what happened."""
        assert self.ib is not None
        try:
            pending = self.intents.pending()
        except Exception:
            log.warning("could not read order intents", exc_info=True)
            return
        for request_id, intent in pending.items():
            if request_id in self.in_flight:
                continue
            keys = {(intent["client_id"], order_id) for order_id in intent["order_ids"]}
            trades = [t for t in self.ib.trades() if (t.order.clientId, t.order.orderId) in keys]
            filled = [
                f for f in self.ib.fills() if (f.execution.clientId, f.execution.orderId) in keys
            ]
            working = [t for t in trades if not t.isDone()]
            for trade in working:
                self.ib.cancelOrder(trade.order)
            perm_ids = sorted({t.order.permId for t in trades if t.order.permId})
            if filled:
                state = "orphan_filled"
            elif working:
                state = "orphan_cancelled"
            elif trades:
                state = "orphan_done"
            else:
                state = "not_placed"
            log.warning(
                "reconciled order request %s of a worker that died mid-order: %s %s",
                request_id,
                state,
                perm_ids,
            )
            self.journal.put(("audit", {"id": request_id, "state": state, "perm_ids": perm_ids}))
            with contextlib.suppress(Exception):
                self.intents.done(request_id)

    def _on_disconnected(self) -> None:
        self.connected = False
        self.contracts.clear()
        self._open_rows = {}
        self.publisher.beat()
        if self._wake is not None:
            self._wake.set()

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        if code in mapping.INFORMATIONAL:
            return
        if code in mapping.CONNECTIVITY_LOST:
            log.warning("IB connectivity lost (%s): %s", code, message)
        if req_id > 0:
            self.order_errors[req_id] = (code, message)
        if self.changed is not None:
            self.changed.set()

    def _on_change(self, *args: Any) -> None:
        if self.dirty is not None:
            self.dirty.set()
        if self.changed is not None:
            self.changed.set()

    # --- the journal --------------------------------------------------------------

    def _hook_decoder(self, ib: IB) -> None:
        """Keep two things ib_async's decoder throws away: the raw execution time
        string, and whether realizedPNL was IB's "unset" (it turns that into 0.0)."""
        decoder = ib.client.decoder
        exec_details = decoder.handlers[11]
        commission_report = decoder.handlers[59]

        def on_exec_details(fields: list[str]) -> None:
            if len(fields) > 15:
                self.raw_times[fields[14]] = fields[15]
            exec_details(fields)

        def on_commission_report(fields: list[str]) -> None:
            self.fills_version += 1
            if len(fields) > 5 and fields[5] in ("", "1.7976931348623157E308"):
                self.unset_pnl.add(fields[2])
            commission_report(fields)

        decoder.handlers[11] = on_exec_details
        decoder.handlers[59] = on_commission_report

    def execution_data(self, fill: Fill) -> dict[str, Any]:
        ex, contract = fill.execution, fill.contract
        data: dict[str, Any] = {
            "exec_id": ex.execId,
            "perm_id": ex.permId,
            "order_id": ex.orderId,
            "client_id": ex.clientId,
            "order_ref": ex.orderRef or "",
            "account": ex.acctNumber,
            "symbol": contract.symbol,
            "sec_type": contract.secType or "STK",
            "exchange": ex.exchange,
            "currency": contract.currency or "USD",
            "side": mapping.side_from_ib(ex.side),
            "quantity": float(ex.shares),
            "price": float(ex.price),
            "cum_quantity": float(ex.cumQty),
            "avg_price": float(ex.avgPrice),
            "executed_at": ex.time.astimezone(dt.UTC).isoformat(),
            "ib_time": self.raw_times.get(ex.execId, ""),
        }
        report = fill.commissionReport
        if report.execId == ex.execId:
            data.update(self.commission_data(report))
        return data

    def commission_data(self, report: CommissionReport) -> dict[str, Any]:
        unset = report.execId in self.unset_pnl
        return {
            "commission": float(report.commission),
            "commission_currency": report.currency,
            "realized_pnl": None if unset else float(report.realizedPNL),
        }

    def order_data(self, trade: Trade) -> dict[str, Any]:
        order, status = trade.order, trade.orderStatus
        return {
            "perm_id": order.permId,
            "order_id": order.orderId,
            "client_id": order.clientId,
            "order_ref": order.orderRef or "",
            "account": order.account,
            "symbol": trade.contract.symbol,
            "action": order.action,
            "order_type": order.orderType,
            "quantity": float(order.totalQuantity),
            "limit_price": _price(order.lmtPrice),
            "stop_price": _price(order.auxPrice),
            "tif": order.tif,
            "parent_perm_id": order.parentPermId or None,
            "status": status.status,
            "filled": float(status.filled),
            "avg_fill_price": _price(status.avgFillPrice) or None,
        }

    def _on_execution(self, trade: Trade, fill: Fill) -> None:
        self.fills_version += 1
        self.journal.put(("execution", self.execution_data(fill)))

    def _on_commission(self, trade: Trade, fill: Fill, report: CommissionReport) -> None:
        self.fills_version += 1
        self.journal.put(("commission", {"exec_id": report.execId, **self.commission_data(report)}))

    def _on_order(self, trade: Trade) -> None:
        if trade.orderStatus.status == "Filled":
            self.fills_version += 1
        if trade.order.permId:
            self._track(trade)
            self.journal.put(("order", self.order_data(trade)))

    def _track(self, trade: Trade) -> None:
        perm_id = trade.order.permId
        if trade.orderStatus.status in mapping.PENDING_STATUSES:
            self._open_rows[perm_id] = self._order_row(trade)
        else:
            self._open_rows.pop(perm_id, None)

    def _track_all(self) -> None:
        """Rebuild the working orders from ib_async's trades (after a connect)."""
        assert self.ib is not None
        self._open_rows = {}
        for trade in self.ib.openTrades():
            if trade.order.permId:
                self._track(trade)

    async def _fetch_history(self) -> dict[str, list[dict[str, Any]]]:
        assert self.ib is not None
        if not (self.connected and self.ib.isConnected()):
            raise ConnectionError("Failed to connect to IB Gateway")
        fills = await asyncio.wait_for(self.ib.reqExecutionsAsync(), settings.IB_REQUEST_TIMEOUT)
        known = self.ib.wrapper.fills
        executions = [self.execution_data(known.get(f.execution.execId, f)) for f in fills]
        self.request_exec_ids.update(f.execution.execId for f in fills)
        completed = await asyncio.wait_for(
            self.ib.reqCompletedOrdersAsync(apiOnly=False), settings.IB_REQUEST_TIMEOUT
        )
        orders = [self.order_data(t) for t in completed if t.order.permId]
        orders += [self.order_data(t) for t in self.ib.openTrades() if t.order.permId]
        return {"executions": executions, "orders": orders}

    def fetch_history(self) -> dict[str, list[dict[str, Any]]]:
        """From a task thread: the gateway's executions and orders of the day."""
        return self.call(self._fetch_history(), timeout=3 * settings.IB_REQUEST_TIMEOUT)

    # --- the mirror -------------------------------------------------------------

    async def _publish_loop(self) -> None:
        assert self.dirty is not None
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            if self.connected:
                self.publisher.offer(self.snapshot())
            await asyncio.sleep(0.02)  # coalesce bursts of events

    def orders_snapshot(self) -> dict[str, Any]:
        """On the loop: the working orders as they are now, to publish before
        answering, so a client reading right after an order sees it."""
        self.seq += 1
        return {"_seq": self.seq, "orders": self._orders()}

    async def _orders_now(self) -> dict[str, Any]:
        return self.orders_snapshot()

    def publish_now(self) -> None:
        """From a task thread: publish the working orders before answering."""
        self.publisher.write(self.call(self._orders_now(), timeout=5))

    def snapshot(self) -> dict[str, Any]:
        assert self.ib is not None
        ib = self.ib
        values = {
            v.tag: v.value
            for v in ib.accountValues(self.account)
            if v.currency in ("USD", "BASE", "") and not v.modelCode
        }

        def money(tag: str) -> float | None:
            try:
                return float(values[tag])
            except (KeyError, ValueError):
                return None

        account = {
            "account": self.account,
            "net_liquidation": money("NetLiquidation"),
            "available_funds": money("AvailableFunds"),
            "total_cash_value": money("TotalCashValue"),
            "buying_power": money("BuyingPower"),
            "gross_position_value": money("GrossPositionValue"),
            "unrealized_pnl": money("UnrealizedPnL"),
            "realized_pnl": money("RealizedPnL"),
            "currency": "USD",
        }
        portfolio = {item.contract.conId: item for item in ib.portfolio(self.account)}
        positions: list[dict[str, Any]] = []
        for pos in ib.positions(self.account):
            if not pos.position:
                continue
            item = portfolio.get(pos.contract.conId)
            positions.append(
                {
                    "symbol": pos.contract.symbol,
                    "sec_type": pos.contract.secType,
                    "currency": pos.contract.currency,
                    "qty": _number(pos.position),
                    "avg_cost": round(pos.avgCost, 4),
                    "market_price": round(item.marketPrice, 4) if item else None,
                    "market_value": round(item.marketValue, 2) if item else None,
                    "unrealized_pnl": round(item.unrealizedPNL, 2) if item else None,
                    "realized_pnl": round(item.realizedPNL, 2) if item else None,
                }
            )
        positions.sort(key=lambda p: p["symbol"])
        orders = self._orders()
        self.seq += 1
        return {
            "_seq": self.seq,
            "account": account,
            "positions": positions,
            "orders": orders,
            # The newest fills only: the journal holds the history, the mirror
            # just covers what the journal may not have stored yet.
            "executions": self._executions()[:MIRROR_EXECUTIONS],
        }

    def _orders(self) -> list[dict[str, Any]]:
        """Working orders, one row each, by permId."""
        return sorted(self._open_rows.values(), key=lambda row: row["permId"])

    def _order_row(self, trade: Trade) -> dict[str, Any]:
        order = trade.order
        return {
            "orderId": order.orderId,
            "permId": order.permId,
            "clientId": order.clientId,
            "symbol": trade.contract.symbol,
            "action": order.action,
            "quantity": _number(order.totalQuantity),
            "type": order.orderType,
            "trigger": mapping.trigger_for_api(
                order.orderType, _price(order.lmtPrice), _price(order.auxPrice)
            ),
            "status": mapping.status_for_api(trade.orderStatus.status),
            "filled": _number(trade.orderStatus.filled),
            "tif": order.tif,
            "orderRef": order.orderRef,
            "parentPermId": order.parentPermId or None,
        }

    def _executions(self) -> list[dict[str, Any]]:
        """Session fills (live and from reqExecutions), corrections applied, plus
        completed orders that have no fill here.  Rebuilt only when a fill, a
        commission or an order's state changed since the last time."""
        assert self.ib is not None
        version = (len(self.ib.wrapper.fills), self.fills_version, len(self.ib.wrapper.trades))
        if version == self._executions_version:
            return self._executions_rows
        rows = self._build_executions()
        self._executions_version, self._executions_rows = version, rows
        return rows

    def _build_executions(self) -> list[dict[str, Any]]:
        assert self.ib is not None
        by_stem: dict[str, dict[str, Any]] = {}
        for fill in self.ib.fills():
            ex = fill.execution
            stem, _, suffix = ex.execId.rpartition(".")
            row = {
                "symbol": fill.contract.symbol,
                "side": mapping.side_from_ib(ex.side),
                "qty": _number(ex.shares),
                "price": ex.price,
                "time": ex.time.astimezone(dt.UTC).strftime("%Y%m%d %H:%M:%S"),
                "timestamp": ex.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "orderId": ex.orderId,
                "permId": ex.permId,
                "orderRef": ex.orderRef or "",
                "execId": ex.execId,
                "commission": fill.commissionReport.commission
                if fill.commissionReport.execId
                else None,
                "source": "reqExecutions" if ex.execId in self.request_exec_ids else "trades()",
                "_suffix": suffix,
            }
            current = by_stem.get(stem)
            if current is None or current["_suffix"] < suffix:
                by_stem[stem] = row
        rows = list(by_stem.values())
        filled_perm_ids = {row["permId"] for row in rows}
        for trade in self.ib.trades():
            status = trade.orderStatus.status
            order = trade.order
            if status != "Filled" or order.permId in filled_perm_ids or trade.fills:
                continue
            price = _price(trade.orderStatus.avgFillPrice) or None
            if not price:
                continue  # a completed order without a fill price tells nothing usable
            rows.append(
                {
                    "symbol": trade.contract.symbol,
                    "side": order.action,
                    "qty": _number(order.filledQuantity or order.totalQuantity),
                    "price": price,
                    "orderId": order.orderId,
                    "permId": order.permId,
                    "orderRef": order.orderRef or "",
                    "execId": None,
                    "commission": None,
                    "source": "reqCompletedOrders",
                    "_suffix": "",
                }
            )
        for row in rows:
            del row["_suffix"]
        rows.sort(key=lambda r: r.get("timestamp") or "", reverse=True)
        return rows

    # --- orders -------------------------------------------------------------

    async def _qualify(self, symbol: str) -> Contract | None:
        assert self.ib is not None
        contract = self.contracts.get(symbol)
        if contract is not None:
            return contract
        candidate = Stock(symbol, "SMART", "USD")
        details = await asyncio.wait_for(
            self.ib.reqContractDetailsAsync(candidate), settings.IB_REQUEST_TIMEOUT
        )
        if not details:
            return None
        contract = details[0].contract
        assert contract is not None
        contract.exchange = "SMART"
        self.contracts[symbol] = contract
        return contract

    def _build(self, kind: str, data: dict[str, Any]) -> list[Order]:
        assert self.ib is not None
        action = data["action"]
        qty = float(data["quantity"])
        ref = data.get("order_ref") or ""
        common = {"orderRef": ref, "tif": "DAY", "account": self.account}
        if kind == "limit":
            return [LimitOrder(action, qty, float(data["limit_price"]), **common)]
        if kind == "market":
            return [MarketOrder(action, qty, **common)]
        if kind == "stop":
            return [StopOrder(action, qty, float(data["stop_price"]), **common)]
        if kind == "bracket":
            bracket = self.ib.bracketOrder(
                action,
                qty,
                limitPrice=float(data["entry_price"]),
                takeProfitPrice=float(data["take_profit"]),
                stopLossPrice=float(data["stop_loss"]),
                orderRef=ref,
                account=self.account,
            )
            # Place parent, stop-loss, take-profit; the last one transmits all three.
            parent, take_profit, stop_loss = bracket.parent, bracket.takeProfit, bracket.stopLoss
            take_profit.transmit, stop_loss.transmit = True, False
            # Order ids must rise in the order the legs are sent (IB answers a
            # lower id than one already used with error 103).
            stop_loss.orderId, take_profit.orderId = sorted(
                (stop_loss.orderId, take_profit.orderId)
            )
            for leg in (parent, take_profit, stop_loss):
                leg.tif = "DAY"
            return [parent, stop_loss, take_profit]
        raise ValueError(f"unknown order kind {kind!r}")

    async def serve(self, op: str, args: dict[str, Any], deadline: float) -> Outcome:
        """One request of the order bus (trading.bus): ``place`` or ``cancel``."""
        if time.time() >= deadline:
            return Outcome.fail("expired", "deadline passed before the order could be sent")
        try:
            if op == "place":
                return await self.place(
                    args["kind"], args["data"], deadline, args.get("request_id")
                )
            if op == "cancel":
                return await self.cancel(int(args["perm_id"]), deadline)
        except Exception:
            log.exception("%s request failed in the gateway worker", op)
            return Outcome.fail(
                "timeout", "The gateway worker failed while handling the request; check GET /orders"
            )
        return Outcome.fail("rejected", f"unknown operation {op!r}")

    async def place(
        self, kind: str, data: dict[str, Any], deadline: float, request_id: int | None = None
    ) -> Outcome:
        assert self.ib is not None
        assert self.changed is not None
        if time.time() >= deadline:
            return Outcome.fail("expired", "deadline passed before the order could be sent")
        if not (self.connected and self.ib.isConnected()):
            return Outcome.fail("unavailable", "Failed to connect to IB Gateway")
        if self.is_live() and not settings.LIVE_TRADING:
            # The web side refuses these already; the worker never sends one either.
            return Outcome.fail("rejected", "Live account and LIVE_TRADING is off: order refused")
        symbol = data["symbol"]
        label = kind
        try:
            contract = await self._qualify(symbol)
        except TimeoutError:
            return Outcome.fail("timeout", "IB Gateway did not answer the contract lookup in time")
        if contract is None:
            return Outcome.fail(
                "rejected",
                f"Failed to place {label} order: Could not qualify contract for symbol: {symbol}",
                200,
            )
        if time.time() >= deadline:
            return Outcome.fail("expired", "deadline passed before the order could be sent")
        orders = self._build(kind, data)
        for order in orders:
            if not order.orderId:
                order.orderId = self.ib.client.getReqId()
        ids = [order.orderId for order in orders]
        if request_id is not None:
            # Recorded before anything is sent: a worker dying from here on
            # leaves a trace the next worker reconciles (trading.gateway.intents).
            try:
                self.intents.add(request_id, settings.IB_CLIENT_ID, ids)
            except Exception:  # Redis down: do not send what could not be traced
                return Outcome.fail("unavailable", "Failed to record the order intent (Redis)")
            self.in_flight.add(request_id)
        return await self._send_and_wait(kind, contract, orders, ids, deadline)

    def intent_done(self, request_id: int | None) -> None:
        """From the task thread, once the outcome is known (keeps a Redis round
        trip off the gateway loop).  The request stays "in flight" until then,
        so a reconnect meanwhile never mistakes it for an orphan."""
        if request_id is not None:
            with contextlib.suppress(Exception):
                self.intents.done(request_id)
            self.in_flight.discard(request_id)

    async def _send_and_wait(
        self, kind: str, contract: Contract, orders: list[Order], ids: list[int], deadline: float
    ) -> Outcome:
        assert self.ib is not None
        assert self.changed is not None
        label = kind
        trades = [self.ib.placeOrder(contract, order) for order in orders]
        acked_at = 0.0
        while True:
            failure = next((self.order_errors.get(i) for i in ids if i in self.order_errors), None)
            if failure is not None:
                self._cancel_all(trades)
                code, message = failure
                return Outcome.fail("rejected", f"Failed to place {label} order: {message}", code)
            done = [t for t in trades if t.orderStatus.status in ("Cancelled", "Inactive")]
            if done:
                self._cancel_all(trades)
                return Outcome.fail(
                    "rejected", f"Failed to place {label} order: {self._why(done[0])}"
                )
            if all(t.order.permId for t in trades):
                # IB sends the order's status right after its permId: wait for
                # it (briefly, never past the deadline: the order stands), so
                # the orders published with the answer show PreSubmitted or
                # Submitted, not PendingSubmit.
                acked_at = acked_at or time.monotonic()
                remaining = min(
                    STATUS_GRACE - (time.monotonic() - acked_at), deadline - time.time()
                )
                if remaining <= 0 or not any(t.orderStatus.status in UNSENT for t in trades):
                    return Outcome(
                        ok=True,
                        perm_ids=[t.order.permId for t in trades],
                        order_ids=ids,
                        statuses=[t.orderStatus.status for t in trades],
                    )
            else:
                remaining = deadline - time.time()
                if remaining <= 0:
                    self._cancel_all(trades)
                    return Outcome.fail(
                        "timeout",
                        "IB Gateway did not acknowledge the order in time; "
                        "it was cancelled in case it reached IB",
                    )
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)

    def is_live(self) -> bool:
        return settings.IB_PORT in settings.LIVE_PORTS or not self.account.startswith("DU")

    def _why(self, trade: Trade) -> str:
        for entry in reversed(trade.log):
            if entry.errorCode:
                return entry.message
        return f"order {trade.orderStatus.status.lower()}"

    def _cancel_all(self, trades: list[Trade]) -> None:
        assert self.ib is not None
        for trade in trades:
            if not trade.isDone():
                try:
                    self.ib.cancelOrder(trade.order)
                except Exception:  # best effort: the order may already be gone
                    log.exception("cancelling leg %s failed", trade.order.orderId)

    def _find(self, perm_id: int) -> Trade | None:
        assert self.ib is not None
        for trade in self.ib.trades():
            if trade.order.permId == perm_id:
                return trade
        return None

    async def cancel(self, perm_id: int, deadline: float) -> Outcome:
        assert self.ib is not None
        assert self.changed is not None
        if not (self.connected and self.ib.isConnected()):
            return Outcome.fail("unavailable", "Failed to connect to IB Gateway")
        trade = self._find(perm_id)
        if trade is None or trade.isDone():
            # Placed by another client, or before a restart: ask the gateway.
            await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), settings.IB_REQUEST_TIMEOUT)
            trade = self._find(perm_id)
        if trade is None or trade.orderStatus.status not in mapping.PENDING_STATUSES:
            return Outcome.fail("not_found", "Order not found or already filled")
        order_id = trade.order.orderId
        self.order_errors.pop(order_id, None)
        self.ib.cancelOrder(trade.order)
        while True:
            status = trade.orderStatus.status
            if status in ("Cancelled", "ApiCancelled"):
                return Outcome(ok=True, perm_id=perm_id)
            if status in ("Filled", "Inactive"):
                return Outcome.fail("not_found", "Order not found or already filled")
            error = self.order_errors.get(order_id)
            if error is not None and error[0] in mapping.CANCEL_REFUSED:
                return Outcome.fail("not_found", "Order not found or already filled", error[0])
            remaining = deadline - time.time()
            if remaining <= 0:
                return Outcome.fail(
                    "timeout", "IB Gateway did not confirm the cancellation in time"
                )
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=remaining)


class _Publisher:
    """Writes snapshots and heartbeats to the cache from a thread of its own, so
    a slow Redis never stalls the gateway loop.  Only the newest snapshot
    matters; a heartbeat goes out at least every second and at once on a
    connection change."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self.runtime = runtime
        self.thread = threading.Thread(target=self._run, name="mirror-publisher", daemon=True)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.latest: dict[str, Any] | None = None
        self.write_lock = threading.Lock()
        self.written_seq: dict[str, int] = {}
        self.last_full: dict[str, Any] = {}
        self.last_full_write = 0.0
        self.failed = False
        self.running = True

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.running = False
        self.wake.set()
        self.thread.join(2)

    def offer(self, snapshot: dict[str, Any]) -> None:
        with self.lock:
            self.latest = snapshot
        self.wake.set()

    def beat(self) -> None:
        self.wake.set()

    def heartbeat(self) -> dict[str, Any]:
        rt = self.runtime
        return {
            "connected": rt.connected,
            "server_version": rt.server_version,
            "account": rt.account,
            "client_id": settings.IB_CLIENT_ID,
            "host": settings.IB_HOST,
            "port": settings.IB_PORT,
            "last_error": rt.last_error,
            "ts": time.time(),
        }

    def write(self, snapshot: dict[str, Any], also: Callable[[Any], None] | None = None) -> None:
        """Publish a snapshot's sections, each unless a newer state of it is out
        already (the orders published with an answer can overtake a full
        snapshot taken earlier: its orders are dropped, its account and
        positions still go out).  With ``also`` (more Redis commands for the
        same round trip, see mirror.publish) a failure raises, for the caller
        to retry."""
        snapshot = dict(snapshot)
        seq = snapshot.pop("_seq", None)
        with self.write_lock:
            if seq is not None:
                for section in list(snapshot):
                    if seq < self.written_seq.get(section, 0):
                        del snapshot[section]
                    else:
                        self.written_seq[section] = seq
            self._publish(snapshot, also)

    def _publish(self, snapshot: dict[str, Any], also: Callable[[Any], None] | None = None) -> None:
        if snapshot:
            self.last_full = {**self.last_full, **snapshot}
        elif (
            not snapshot
            and self.last_full
            and (self.failed or time.monotonic() - self.last_full_write > FULL_REPUBLISH_EVERY)
        ):
            # After a Redis outage (or restart: it may have lost every key) the
            # whole state goes out again, not just the heartbeat.
            snapshot = self.last_full
        try:
            mirror.publish({**snapshot, "heartbeat": self.heartbeat()}, also)
        except Exception:  # Redis down: the next beat retries
            if not self.failed:
                log.warning("could not publish the gateway state", exc_info=True)
            self.failed = True
            if also is not None:
                raise
            return
        self.failed = False
        if snapshot:
            self.last_full_write = time.monotonic()

    def _run(self) -> None:
        while self.running:
            self.wake.wait(1.0)
            self.wake.clear()
            with self.lock:
                snapshot, self.latest = self.latest, None
            self.write(snapshot or {})


class _JournalWriter:
    """Stores fills, commissions and order states in the journal from a thread
    of its own (database writes never stall the gateway loop), and runs the
    sync after every (re)connect.  A write that fails is logged; the next
    scheduled sync stores what it missed."""

    def __init__(self, runtime: GatewayRuntime) -> None:
        self.runtime = runtime
        self.queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(5)

    def put(self, item: tuple[str, Any]) -> None:
        self.queue.put(item)

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown)."""
        done = threading.Event()
        self.queue.put(("barrier", done))
        done.wait(timeout)

    def _run(self) -> None:
        from django.db import close_old_connections

        from journal import services

        while True:
            batch = [self.queue.get()]
            if batch[0] is not None and batch[0][0] != "barrier":
                # Let the order that caused this event be acknowledged first: the
                # journal is not latency-critical, the gateway loop is. Then write
                # everything that has come in meanwhile in one go.
                time.sleep(WRITER_PAUSE)
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            for item in batch:
                if item is None:
                    return
                self._handle(item, services, close_old_connections)

    def _handle(self, item: tuple[str, Any], services: Any, close_old_connections: Any) -> None:
        kind, data = item
        try:
            if kind == "execution":
                services.execution_record(data=data, source="trades()")
            elif kind == "commission":
                services.commission_record(
                    exec_id=data["exec_id"],
                    commission=data["commission"],
                    currency=data["commission_currency"],
                    realized_pnl=data["realized_pnl"],
                )
            elif kind == "order":
                services.order_record(data=data)
            elif kind == "sync":
                services.executions_sync(fetch=self.runtime.fetch_history, trigger=data)
            elif kind == "audit":
                from trading.models import OrderRequestLog

                OrderRequestLog.objects.filter(pk=data["id"]).update(
                    state=data["state"],
                    perm_ids=data["perm_ids"],
                    error=f"reconciled after a worker restart: {data['state']}",
                )
            elif kind == "barrier":
                data.set()
        except Exception:  # keep writing; the scheduled sync repairs gaps
            log.exception("journal write failed (%s)", kind)
            close_old_connections()


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

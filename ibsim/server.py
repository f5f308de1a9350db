"""The socket side of the simulator: handshake, framing, per-connection
version, request dispatch, pacing, subscriptions and the fault switches."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import struct
import time
from typing import Any

from ibsim import protocol as p
from ibsim.book import AccountEvent, Book, Event, FillEvent, Order, OrderEvent, RejectError
from ibsim.universe import CONTRACTS

log = logging.getLogger("ibsim")

PACING_LIMIT = 50  # messages per second per client, like IB
CONNECTIVITY = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
}
FARM_OK = [
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
]


class Connection:
    """One API client: its negotiated version, clientId, subscriptions and
    an ordered, optionally delayed, outgoing queue."""

    def __init__(
        self, sim: Simulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.version = 0
        self.client_id: int | None = None
        self.account_updates = False
        self.positions_sub = False
        self.multi_subs: set[int] = set()
        self.recent: collections.deque[float] = collections.deque()
        self.peak_rate = 0
        self.queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        self.closed = False
        self.writer_task: asyncio.Task[None] | None = None

    # --- output -----------------------------------------------------------

    def send(self, fields: list[Any]) -> None:
        if self.closed:
            return
        due = time.monotonic() + self.sim.delay_s
        self.queue.put_nowait((due, p.frame(fields)))

    def send_raw(self, data: bytes) -> None:
        self.queue.put_nowait((time.monotonic() + self.sim.delay_s, data))

    def error(self, req_id: int, code: int, message: str) -> None:
        self.send(p.error(self.version, req_id, code, message))

    async def _write_loop(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None:
                break
            due, data = item
            await self.sim.unfrozen.wait()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.writer.write(data)
            if self.queue.empty():
                with contextlib.suppress(ConnectionError):
                    await self.writer.drain()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            self.writer.close()

    # --- input ------------------------------------------------------------

    async def _read_frame(self) -> list[str]:
        header = await self.reader.readexactly(4)
        (size,) = struct.unpack(">I", header)
        if size > 10_000_000:
            raise p.ProtocolError("frame too large")
        return p.split_frame(await self.reader.readexactly(size))

    async def run(self) -> None:
        self.writer_task = asyncio.create_task(self._write_loop())
        try:
            prefix = await self.reader.readexactly(4)
            if prefix != b"API\0":
                raise p.ProtocolError(f"bad prefix {prefix!r}")
            hello = await self._read_frame()
            await self.sim.unfrozen.wait()
            self.version = p.negotiate(hello[0] if hello else "")
            now = dt.datetime.now(dt.UTC).strftime("%Y%m%d %H:%M:%S UTC")
            self.send_raw(p.frame([self.version, now]))
            while not self.closed:
                fields = await self._read_frame()
                await self.sim.unfrozen.wait()
                if self.closed:
                    break
                self.sim.messages_in += 1
                if fields:
                    self.handle(fields)
                await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except p.ProtocolError as exc:
            log.warning("closing connection: %s", exc)
        finally:
            self.sim.forget(self)
            self.close()

    def _paced(self) -> bool:
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) >= PACING_LIMIT:
            self.sim.pacing_errors += 1
            self.error(
                -1,
                100,
                f"Max rate of messages per second has been exceeded:max={PACING_LIMIT} "
                f"rec={len(self.recent) + 1} (1)",
            )
            return False
        self.recent.append(now)
        self.peak_rate = max(self.peak_rate, len(self.recent))
        return True

    def rate(self) -> int:
        now = time.monotonic()
        return sum(1 for t in self.recent if now - t < 1.0)

    def handle(self, fields: list[str]) -> None:
        msg = p.FieldReader(fields)
        msg_id = msg.int()
        if self.client_id is None:
            if msg_id != p.IN_START_API:
                raise p.ProtocolError(f"message {msg_id} before startApi")
            msg.skip()
            self.sim.start_api(self, msg.int())
            return
        if self.client_id < 0:
            return  # refused (clientId in use): closing, answers nothing more
        if not self._paced():
            return
        handler = self.sim.handlers.get(msg_id)
        if handler is None:
            log.info("client %s: ignoring message %s", self.client_id, msg_id)
            return
        try:
            handler(self, msg)
        except p.ProtocolError as exc:
            log.warning("client %s: bad message %s: %s", self.client_id, msg_id, exc)
            self.error(-1, 320, f"Error reading request: {exc}")


class Simulator:
    """The simulated gateway: a listening socket plus the book."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4012,
        account: str = "DU1234567",
        cash: float = 1_000_000.0,
        state_dir: str | None = None,
        seed: int = 7,
        walk: bool = True,
        tick_interval: float = 1.0,
        prices: dict[str, float] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.book = Book(account=account, cash=cash, state_dir=state_dir, seed=seed, prices=prices)
        self.walk_enabled = walk
        self.tick_interval = tick_interval
        self.delay_s = 0.0
        self.unfrozen = asyncio.Event()
        self.unfrozen.set()
        self.connections: set[Connection] = set()
        self.clients: dict[int, Connection] = {}
        self.server: asyncio.Server | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.connections_total = 0
        self.messages_in = 0
        self.pacing_errors = 0
        self.refusing_until = 0.0
        self.refusals = 0
        self.handlers = {
            p.IN_PLACE_ORDER: self.on_place_order,
            p.IN_CANCEL_ORDER: self.on_cancel_order,
            p.IN_REQ_OPEN_ORDERS: self.on_req_open_orders,
            p.IN_REQ_ALL_OPEN_ORDERS: self.on_req_all_open_orders,
            p.IN_REQ_AUTO_OPEN_ORDERS: lambda c, m: None,
            p.IN_REQ_ACCOUNT_UPDATES: self.on_req_account_updates,
            p.IN_REQ_EXECUTIONS: self.on_req_executions,
            p.IN_REQ_IDS: self.on_req_ids,
            p.IN_REQ_CONTRACT_DETAILS: self.on_req_contract_details,
            p.IN_REQ_MANAGED_ACCTS: lambda c, m: c.send(
                [p.OUT_MANAGED_ACCTS, 1, self.book.account]
            ),
            p.IN_REQ_CURRENT_TIME: lambda c, m: c.send([p.OUT_CURRENT_TIME, 1, int(time.time())]),
            p.IN_REQ_GLOBAL_CANCEL: self.on_global_cancel,
            p.IN_REQ_MARKET_DATA_TYPE: lambda c, m: None,
            p.IN_REQ_POSITIONS: self.on_req_positions,
            p.IN_CANCEL_POSITIONS: self.on_cancel_positions,
            p.IN_REQ_ACCOUNT_SUMMARY: self.on_req_account_summary,
            p.IN_CANCEL_ACCOUNT_SUMMARY: lambda c, m: None,
            p.IN_REQ_ACCOUNT_UPDATES_MULTI: self.on_req_account_updates_multi,
            p.IN_CANCEL_ACCOUNT_UPDATES_MULTI: self.on_cancel_account_updates_multi,
            p.IN_REQ_COMPLETED_ORDERS: self.on_req_completed_orders,
        }

    # --- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        await self._listen()
        self.tasks.append(asyncio.create_task(self._walk_loop()))

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for conn in list(self.connections):
            conn.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        self.book.save()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self.refusing_until:
            writer.close()
            return
        conn = Connection(self, reader, writer)
        self.connections.add(conn)
        self.connections_total += 1
        await conn.run()

    def forget(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if conn.client_id is not None and self.clients.get(conn.client_id) is conn:
            del self.clients[conn.client_id]

    def start_api(self, conn: Connection, client_id: int) -> None:
        if client_id in self.clients:
            conn.error(
                -1,
                326,
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id.",
            )
            asyncio.get_running_loop().call_later(0.05 + self.delay_s, conn.close)
            conn.client_id = -1  # refuse anything else it sends
            return
        conn.client_id = client_id
        self.clients[client_id] = conn
        conn.send([p.OUT_MANAGED_ACCTS, 1, self.book.account])
        conn.send([p.OUT_NEXT_VALID_ID, 1, self.book.next_valid_id(client_id)])
        for code, text in FARM_OK:
            conn.error(-1, code, text)

    async def _walk_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval)
            if not self.walk_enabled:
                continue
            changed = self.book.step_walk()
            events: list[Event] = []
            for symbol in changed:
                events += self.book.match(symbol)
            held = {s for s, pos in self.book.position_rows()}
            events.append(AccountEvent([s for s in changed if s in held]))
            self.dispatch(events)

    # --- routing ----------------------------------------------------------

    def audience(self, order: Order) -> list[Connection]:
        """The placing client and every master (clientId 0) connection."""
        out = []
        for client_id, conn in self.clients.items():
            if client_id == order.client_id or client_id == 0:
                out.append(conn)
        return out

    def dispatch(self, events: list[Event]) -> None:
        account_symbols: set[str] = set()
        account_changed = False
        for event in events:
            if isinstance(event, OrderEvent):
                for conn in self.audience(event.order):
                    if event.error and conn.client_id == event.order.client_id:
                        conn.error(event.order.order_id, *event.error)
                    self.send_order(conn, event.order)
            elif isinstance(event, FillEvent):
                execution = event.execution.view()
                for conn in self.audience(event.order):
                    conn.send(p.exec_details(conn.version, -1, execution))
                    self.send_order(conn, event.order)
                    conn.send(p.commission_report(execution))
            elif isinstance(event, AccountEvent):
                account_symbols.update(event.symbols)
                account_changed = account_changed or bool(event.symbols)
        if account_changed:
            self.push_account(sorted(account_symbols))

    def send_order(self, conn: Connection, order: Order) -> None:
        view = order.view(self.book.parent_perm_id(order))
        if order.status != "Inactive":
            conn.send(p.open_order(conn.version, view))
        conn.send(p.order_status(view))

    def push_account(self, symbols: list[str]) -> None:
        values = self.book.account_values()
        stamp = dt.datetime.now().strftime("%H:%M")
        for conn in list(self.clients.values()):
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

    # --- requests ---------------------------------------------------------

    def on_place_order(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        order_id = msg.int()
        con_id = msg.int()
        symbol = msg.str()
        sec_type = msg.str()
        msg.skip(4)  # lastTradeDate, strike, right, multiplier
        exchange = msg.str()
        msg.skip(1)  # primaryExchange
        currency = msg.str()
        msg.skip(2)  # localSymbol, tradingClass
        msg.skip(2)  # secIdType, secId
        spec: dict[str, Any] = {"order_id": order_id}
        spec["action"] = msg.str()
        spec["quantity"] = msg.float()
        spec["order_type"] = msg.str()
        spec["lmt_price"] = msg.float()
        spec["aux_price"] = msg.float()
        spec["tif"] = msg.str()
        spec["oca_group"] = msg.str()
        spec["account"] = msg.str()
        msg.skip(2)  # openClose, origin
        spec["order_ref"] = msg.str()
        spec["transmit"] = msg.bool()
        spec["parent_id"] = msg.int()
        msg.skip(4)  # blockOrder, sweepToFill, displaySize, triggerMethod
        spec["outside_rth"] = msg.bool()
        msg.skip(1)  # hidden
        if sec_type == "BAG":
            conn.error(order_id, 201, "Order rejected - reason:Combo orders are not supported.")
            return
        msg.skip(7)  # "", discretionaryAmt, goodAfterTime, goodTillDate, fa group/method/pct
        if conn.version < 177:
            msg.skip(1)  # faProfile
        msg.skip(4)  # modelCode, shortSaleSlot, designatedLocation, exemptCode
        spec["oca_type"] = msg.int()
        contract = self.book.contract_for(con_id, symbol)
        if (
            contract is None
            or sec_type not in ("STK", "")
            or currency not in ("USD", "")
            or exchange not in ("SMART", contract.primary_exchange, "")
        ):
            conn.error(order_id, 200, "No security definition has been found for the request")
            return
        if spec["account"] and spec["account"] != self.book.account:
            conn.error(order_id, 201, "Order rejected - reason:Invalid account code.")
            return
        spec["symbol"] = contract.symbol
        try:
            events = self.book.place(conn.client_id, spec)
        except RejectError as exc:
            conn.error(order_id, exc.code, exc.message)
            if exc.code == 201:
                conn.send(
                    [
                        p.OUT_ORDER_STATUS,
                        order_id,
                        "Inactive",
                        "0",
                        p.encode_field(float(spec["quantity"] or 0)),
                        "0",
                        0,
                        spec.get("parent_id", 0),
                        "0",
                        conn.client_id,
                        "",
                        0,
                    ]
                )
            return
        self.dispatch(events)

    def on_cancel_order(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        msg.skip()
        order_id = msg.int()
        try:
            events = self.book.cancel(conn.client_id, order_id)
        except RejectError as exc:
            conn.error(order_id, exc.code, exc.message)
            return
        self.dispatch(events)

    def on_global_cancel(self, conn: Connection, msg: p.FieldReader) -> None:
        self.dispatch(self.book.cancel_all())

    def _send_open_orders(self, conn: Connection, everyone: bool) -> None:
        assert conn.client_id is not None
        for order in self.book.visible_orders(conn.client_id, everyone):
            self.send_order(conn, order)
        conn.send([p.OUT_OPEN_ORDER_END, 1])

    def on_req_open_orders(self, conn: Connection, msg: p.FieldReader) -> None:
        self._send_open_orders(conn, everyone=conn.client_id == 0)

    def on_req_all_open_orders(self, conn: Connection, msg: p.FieldReader) -> None:
        self._send_open_orders(conn, everyone=True)

    def on_req_completed_orders(self, conn: Connection, msg: p.FieldReader) -> None:
        for order in self.book.completed_orders():
            view = order.view(self.book.parent_perm_id(order))
            conn.send(p.completed_order(conn.version, view))
        conn.send([p.OUT_COMPLETED_ORDERS_END])

    def on_req_ids(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        conn.send([p.OUT_NEXT_VALID_ID, 1, self.book.next_valid_id(conn.client_id)])

    def on_req_positions(self, conn: Connection, msg: p.FieldReader) -> None:
        conn.positions_sub = True
        for symbol, pos in self.book.position_rows():
            conn.send(p.position(self.book.account, CONTRACTS[symbol], pos.quantity, pos.avg_cost))
        conn.send([p.OUT_POSITION_END, 1])

    def on_cancel_positions(self, conn: Connection, msg: p.FieldReader) -> None:
        conn.positions_sub = False

    def on_req_account_updates(self, conn: Connection, msg: p.FieldReader) -> None:
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
        conn.send([p.OUT_ACCOUNT_UPDATE_TIME, 1, dt.datetime.now().strftime("%H:%M")])
        conn.send([p.OUT_ACCOUNT_DOWNLOAD_END, 1, self.book.account])

    def on_req_account_updates_multi(self, conn: Connection, msg: p.FieldReader) -> None:
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

    def on_cancel_account_updates_multi(self, conn: Connection, msg: p.FieldReader) -> None:
        msg.skip()
        conn.multi_subs.discard(msg.int())

    def on_req_account_summary(self, conn: Connection, msg: p.FieldReader) -> None:
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

    def on_req_contract_details(self, conn: Connection, msg: p.FieldReader) -> None:
        msg.skip()
        req_id = msg.int()
        con_id = msg.int()
        symbol = msg.str()
        sec_type = msg.str()
        msg.skip(4)
        exchange = msg.str()
        primary = msg.str()
        currency = msg.str()
        contract = self.book.contract_for(con_id, symbol)
        if (
            contract is None
            or (symbol and symbol.upper() != contract.symbol)
            or sec_type not in ("STK", "")
            or currency not in ("USD", "")
            or exchange not in ("SMART", contract.primary_exchange, "")
            or primary not in (contract.primary_exchange, "")
        ):
            conn.error(req_id, 200, "No security definition has been found for the request")
            return
        conn.send(p.contract_details(conn.version, req_id, contract))
        conn.send([p.OUT_CONTRACT_DATA_END, 1, req_id])

    def on_req_executions(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        msg.skip()
        req_id = msg.int()
        client_id = msg.int()
        account = msg.str()
        since = msg.str()
        symbol = msg.str().upper()
        sec_type = msg.str().upper()
        exchange = msg.str().upper()
        side = msg.str().upper()
        since_dt = _parse_filter_time(since) if since else None
        for execution in self.book.executions:
            if conn.client_id != 0 and execution.client_id != conn.client_id:
                continue
            if client_id and execution.client_id != client_id:
                continue
            if account and execution.account != account:
                continue
            if since_dt and execution.when < since_dt:
                continue
            if symbol and execution.symbol != symbol:
                continue
            if sec_type and sec_type != "STK":
                continue
            if exchange and exchange not in ("SMART", execution.exchange):
                continue
            if side and {"BUY": "BOT", "SELL": "SLD"}.get(side, side) != execution.side:
                continue
            view = execution.view()
            conn.send(p.exec_details(conn.version, req_id, view))
            conn.send(p.commission_report(view))
        conn.send([p.OUT_EXECUTION_DATA_END, 1, req_id])

    # --- faults and control ----------------------------------------------

    def drop_connections(self) -> int:
        count = len(self.connections)
        for conn in list(self.connections):
            conn.close()
        self.clients.clear()
        return count

    async def refuse_connections(self, seconds: float) -> None:
        """Close the listener (connects are refused) for a while.  A refusal
        ordered while one is running replaces it: only the latest reopens."""
        self.refusing_until = time.monotonic() + seconds
        self.refusals += 1
        refusal = self.refusals
        if self.server is not None:
            self.server.close()
            self.server = None

        async def reopen() -> None:
            await asyncio.sleep(seconds)
            if refusal != self.refusals:
                return  # superseded by a later refusal
            self.refusing_until = 0.0
            await self._listen()

        self.tasks.append(asyncio.create_task(reopen()))

    async def restart(self, downtime: float = 1.0) -> None:
        self.drop_connections()
        self.book.new_session()
        await self.refuse_connections(downtime)

    def connectivity(self, code: int) -> None:
        if code not in CONNECTIVITY:
            raise ValueError("code must be 1100, 1101 or 1102")
        for conn in self.clients.values():
            conn.error(-1, code, CONNECTIVITY[code])

    def freeze(self, on: bool) -> None:
        if on:
            self.unfrozen.clear()
        else:
            self.unfrozen.set()

    def correct_execution(self, exec_id: str | None, price: float | None) -> str:
        corrected = self.book.correct_execution(exec_id, price)
        order = self.book.by_perm.get(corrected.perm_id)
        view = corrected.view()
        targets = (
            self.audience(order)
            if order
            else [c for cid, c in self.clients.items() if cid in (0, corrected.client_id)]
        )
        for conn in targets:
            conn.send(p.exec_details(conn.version, -1, view))
            conn.send(p.commission_report(view))
        return corrected.exec_id

    def counters(self) -> dict[str, Any]:
        return {
            "orders_total": self.book.orders_total,
            "place_messages": self.book.place_messages,
            "orders_by_ref": dict(self.book.orders_by_ref),
            "connections_total": self.connections_total,
            "connections_open": len(self.connections),
            "clients": sorted(self.clients),
            "messages_in": self.messages_in,
            "messages_per_second": {str(cid): c.rate() for cid, c in self.clients.items()},
            "peak_messages_per_second": {str(cid): c.peak_rate for cid, c in self.clients.items()},
            "pacing_errors": self.pacing_errors,
        }


def _parse_filter_time(text: str) -> dt.datetime | None:
    """ExecutionFilter.time: "yyyymmdd hh:mm:ss" with an optional zone
    (UTC, an IANA name) or "yyyymmdd-hh:mm:ss" in UTC."""
    from zoneinfo import ZoneInfo

    text = text.strip()
    try:
        if "-" in text[:9]:
            return dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.UTC)
        parts = text.split(" ")
        base = dt.datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else ZoneInfo("US/Eastern")
        return base.replace(tzinfo=zone)
    except (ValueError, KeyError):
        return None

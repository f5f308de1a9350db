"""The simulated gateway: the listening socket, clientIds, request dispatch,
the routing of the book's events to connections, and the fault switches.
Connections are in ibsim.connection, market data in ibsim.market_data,
account data in ibsim.account_feed."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from ibsim import hours, sessions
from ibsim import order_messages as om
from ibsim import protocol as p
from ibsim.account_feed import AccountFeed
from ibsim.book import Book
from ibsim.clock import OPEN, Clock
from ibsim.connection import Connection, Handler
from ibsim.history import IN_CANCEL_HISTORICAL_DATA, IN_REQ_HISTORICAL_DATA, HistoryFeed
from ibsim.market_data import Feed
from ibsim.pnl import IN_CANCEL_PNL, IN_CANCEL_PNL_SINGLE, IN_REQ_PNL, IN_REQ_PNL_SINGLE, PnlFeed
from ibsim.records import (
    AccountEvent,
    Event,
    FillEvent,
    Order,
    OrderEvent,
    QuoteEvent,
    RejectError,
)

log = logging.getLogger("ibsim")

CLOCK_POLL = 0.2  # seconds between looks at the clock (session boundaries, expiries)

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
        clock: str = OPEN,
    ) -> None:
        self.host = host
        self.port = port
        self.book = Book(
            account=account,
            cash=cash,
            state_dir=state_dir,
            seed=seed,
            prices=prices,
            clock=Clock(clock),
        )
        self.feed = Feed(self.book, lambda: list(self.clients.values()))
        self.accounts = AccountFeed(self.book, lambda: list(self.clients.values()))
        self.pnl = PnlFeed(self.book, lambda: list(self.connections))
        self.history = HistoryFeed(self.book, lambda: list(self.connections))
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
        self.handlers: dict[int, Handler] = {
            p.IN_REQ_MKT_DATA: self.feed.on_req_mkt_data,
            p.IN_CANCEL_MKT_DATA: self.feed.on_cancel_mkt_data,
            p.IN_PLACE_ORDER: self.on_place_order,
            p.IN_CANCEL_ORDER: self.on_cancel_order,
            p.IN_REQ_OPEN_ORDERS: self.on_req_open_orders,
            p.IN_REQ_ALL_OPEN_ORDERS: self.on_req_all_open_orders,
            p.IN_REQ_AUTO_OPEN_ORDERS: lambda c, m: None,
            p.IN_REQ_ACCOUNT_UPDATES: self.accounts.on_req_account_updates,
            p.IN_REQ_EXECUTIONS: self.on_req_executions,
            p.IN_REQ_IDS: self.on_req_ids,
            p.IN_REQ_CONTRACT_DETAILS: self.on_req_contract_details,
            p.IN_REQ_MANAGED_ACCTS: lambda c, m: c.send(
                [p.OUT_MANAGED_ACCTS, 1, self.book.account]
            ),
            p.IN_REQ_CURRENT_TIME: lambda c, m: c.send(
                [p.OUT_CURRENT_TIME, 1, int(self.book.clock.timestamp())]
            ),
            p.IN_REQ_GLOBAL_CANCEL: self.on_global_cancel,
            p.IN_REQ_MARKET_DATA_TYPE: self.feed.on_req_market_data_type,
            p.IN_REQ_POSITIONS: self.accounts.on_req_positions,
            p.IN_CANCEL_POSITIONS: self.accounts.on_cancel_positions,
            p.IN_REQ_ACCOUNT_SUMMARY: self.accounts.on_req_account_summary,
            p.IN_CANCEL_ACCOUNT_SUMMARY: lambda c, m: None,
            p.IN_REQ_ACCOUNT_UPDATES_MULTI: self.accounts.on_req_account_updates_multi,
            p.IN_CANCEL_ACCOUNT_UPDATES_MULTI: self.accounts.on_cancel_account_updates_multi,
            p.IN_REQ_COMPLETED_ORDERS: self.on_req_completed_orders,
            IN_REQ_PNL: self.pnl.on_req_pnl,
            IN_REQ_HISTORICAL_DATA: self.history.on_req_historical_data,
            IN_CANCEL_HISTORICAL_DATA: self.history.on_cancel_historical_data,
            IN_CANCEL_PNL: self.pnl.on_cancel,
            IN_REQ_PNL_SINGLE: self.pnl.on_req_pnl_single,
            IN_CANCEL_PNL_SINGLE: self.pnl.on_cancel,
        }

    # --- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        await self._listen()
        self.tasks.append(asyncio.create_task(self._walk_loop()))
        self.tasks.append(asyncio.create_task(self._clock_loop()))

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

    def handshake_time(self) -> str:
        return self.book.clock.now().strftime("%Y%m%d %H:%M:%S UTC")

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
                self.feed.publish([])  # delayed streams still move with their clock
                continue
            changed = self.book.step_walk()
            events: list[Event] = [QuoteEvent(changed)]
            for symbol in changed:
                events += self.book.match(symbol)
            held = {s for s, pos in self.book.position_rows()}
            events.append(AccountEvent([s for s in changed if s in held]))
            self.dispatch(events)

    async def _clock_loop(self) -> None:
        """Time passes: session boundaries and expiries as the clock reaches them."""
        while True:
            await asyncio.sleep(CLOCK_POLL)
            self.catch_up()

    def catch_up(self) -> list[Event]:
        """Bring the book to the clock's time (before a request reads or changes it)."""
        events = self.book.pass_time()
        self.dispatch(events)
        return events

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
                    if conn.client_id == event.order.client_id:
                        # Errors and warnings go to the placing client only.
                        for code, text in event.warnings:
                            conn.error(event.order.order_id, code, text)
                        if event.error:
                            conn.error(event.order.order_id, *event.error)
                    self.send_order(conn, event.state)
            elif isinstance(event, FillEvent):
                execution = event.execution.view()
                for conn in self.audience(event.order):
                    conn.send(p.exec_details(conn.version, -1, execution))
                    self.send_order(conn, event.state)
                    conn.send(p.commission_report(execution))
            elif isinstance(event, AccountEvent):
                account_symbols.update(event.symbols)
                account_changed = account_changed or bool(event.symbols)
            elif isinstance(event, QuoteEvent):
                self.feed.publish(event.symbols)
                self.history.publish(event.symbols)
        if account_changed:
            self.accounts.push(sorted(account_symbols))
        if events:
            self.pnl.push()

    def send_order(self, conn: Connection, order: Order) -> None:
        view = order.view(self.book.parent_perm_id(order))
        if order.status != "Inactive":
            conn.send(om.open_order(conn.version, view))
        conn.send(om.order_status(view))

    # --- requests ---------------------------------------------------------

    def on_place_order(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        self.catch_up()
        spec = om.read_place_order(conn.version, msg)
        order_id = spec["order_id"]
        if spec["sec_type"] == "BAG":
            conn.error(order_id, 201, "Order rejected - reason:Combo orders are not supported.")
            return
        con_id, symbol, sec_type = spec["con_id"], spec["symbol"], spec["sec_type"]
        exchange, currency = spec["exchange"], spec["currency"]
        contract = self.book.contract_for(con_id, symbol)
        if (
            contract is None
            or sec_type not in ("STK", "")
            or currency not in ("USD", "")
            or exchange not in ("SMART", contract.primary_exchange, "")
        ):
            conn.error(order_id, 200, p.NO_SECURITY_DEFINITION)
            return
        if spec["account"] and spec["account"] != self.book.account:
            conn.error(order_id, 201, "Order rejected - reason:Invalid account code.")
            return
        spec["symbol"] = contract.symbol
        if spec.get("what_if"):
            self.answer_what_if(conn, spec)
            return
        try:
            events = self.book.place(conn.client_id, spec)
        except RejectError as exc:
            conn.error(order_id, exc.code, exc.message)
            if exc.order is not None:
                self.send_order(conn, exc.order)  # a refused modification: unchanged
            elif exc.code == 201:
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

    def answer_what_if(self, conn: Connection, spec: dict[str, Any]) -> None:
        """A what-if order: its warnings, then an openOrder whose OrderState
        carries the margin and commission, and no order.  One the account
        could not take is answered too, then refused with error 201, as a
        paper gateway does."""
        assert conn.client_id is not None
        try:
            answer = self.book.what_if(conn.client_id, spec)
        except RejectError as exc:
            conn.error(spec["order_id"], exc.code, exc.message)
            return
        for code, text in answer.warnings:
            conn.error(answer.order.order_id, code, text)
        view = answer.order.view()
        conn.send(om.open_order(conn.version, view, answer.impact.view()))
        if answer.impact.rejected:
            conn.error(answer.order.order_id, 201, answer.impact.reason())

    def on_cancel_order(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        self.catch_up()  # an order that expired a moment ago is not cancelled twice
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
            conn.send(om.completed_order(conn.version, view))
        conn.send([p.OUT_COMPLETED_ORDERS_END])

    def on_req_ids(self, conn: Connection, msg: p.FieldReader) -> None:
        assert conn.client_id is not None
        conn.send([p.OUT_NEXT_VALID_ID, 1, self.book.next_valid_id(conn.client_id)])

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
        contract = self.book.resolve_contract(con_id, symbol, sec_type, exchange, primary, currency)
        if contract is None:
            conn.error(req_id, 200, p.NO_SECURITY_DEFINITION)
            return
        trading, liquid = hours.hours(self.book.now(), self.book.clock.calendar)
        conn.send(p.contract_details(conn.version, req_id, contract, trading, liquid))
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
        since_dt = sessions.parse_ib_time(since) if since else None
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
            "messages_by_id": {
                str(cid): {str(msg_id): n for msg_id, n in sorted(c.by_message.items())}
                for cid, c in self.clients.items()
            },
            "pacing_errors": self.pacing_errors,
            "market_data_lines": self.feed.lines(),
            "pnl_subscriptions": len(self.pnl.subs),
            "historical_pacing_errors": self.history.pacing_errors,
        }

"""One API client's connection: the handshake, framing, its negotiated
version and clientId, pacing, its subscriptions, and an ordered, optionally
delayed, outgoing queue.  What it needs of the simulator is `Host`."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import struct
import time
from collections.abc import Callable
from typing import Any, Protocol

from ibsim import protocol as p
from ibsim.market_data import LIVE, Ticker

log = logging.getLogger("ibsim")

PACING_LIMIT = 50  # messages per second per client, like IB

Handler = Callable[["Connection", p.FieldReader], None]


class Host(Protocol):
    """What a connection needs of the simulator that accepted it."""

    delay_s: float
    unfrozen: asyncio.Event
    messages_in: int
    pacing_errors: int
    handlers: dict[int, Handler]

    def handshake_time(self) -> str: ...

    def forget(self, conn: Connection) -> None: ...

    def start_api(self, conn: Connection, client_id: int) -> None: ...


class Connection:
    """One API client: its negotiated version, clientId, subscriptions and
    an ordered, optionally delayed, outgoing queue."""

    def __init__(
        self, sim: Host, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.reader = reader
        self.writer = writer
        self.version = 0
        self.client_id: int | None = None
        self.account_updates = False
        self.positions_sub = False
        self.multi_subs: set[int] = set()
        self.market_data_type = LIVE  # reqMarketDataType, per connection as at IB
        self.tickers: dict[int, Ticker] = {}  # streaming reqMktData by reqId
        self.recent: collections.deque[float] = collections.deque()
        self.peak_rate = 0
        # Messages taken, by message id (what a client spends its pacing on).
        self.by_message: collections.Counter[int] = collections.Counter()
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
            self.send_raw(p.frame([self.version, self.sim.handshake_time()]))
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
        self.by_message[msg_id] += 1
        handler = self.sim.handlers.get(msg_id)
        if handler is None:
            log.info("client %s: ignoring message %s", self.client_id, msg_id)
            return
        try:
            handler(self, msg)
        except p.ProtocolError as exc:
            log.warning("client %s: bad message %s: %s", self.client_id, msg_id, exc)
            self.error(-1, 320, f"Error reading request: {exc}")

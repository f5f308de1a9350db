"""The link to IB Gateway: one ib_async client, connected and kept connected
(back-off after a failure or a gateway restart), IB's error messages routed
by what their code means (trading.gateway.codes), and two taps on ib_async's
decoder.  It knows nothing of orders or the mirror: it hands events to the
callbacks the composition root (trading.gateway.runtime) gives it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from ib_async import IB

from trading.gateway import codes

log = logging.getLogger("trading.gateway")

# ib_async's decoder: message ids, and the positions of the fields the taps
# read in them. tests/unit/test_decoder_taps.py feeds ib_async's own decoder
# real messages and fails if an upgrade moves these.
EXEC_DETAILS, COMMISSION_REPORT = 11, 59
EXEC_ID_FIELD, EXEC_TIME_FIELD = 14, 15
REPORT_EXEC_ID_FIELD, REPORT_PNL_FIELD = 2, 5
UNSET_PNL_TEXTS = ("", "1.7976931348623157E308")


class DecoderTaps:
    """Keeps two things ib_async's decoder throws away: the execution time as
    IB wrote it (the journal stores it verbatim), and whether a commission
    report's realizedPNL was IB's "unset" (ib_async turns that into a number)."""

    def __init__(self, on_commission: Callable[[], None] = lambda: None) -> None:
        self.raw_times: dict[str, str] = {}
        self.unset_pnl: set[str] = set()
        self.on_commission = on_commission

    def install(self, decoder: Any) -> None:
        exec_details = decoder.handlers[EXEC_DETAILS]
        commission_report = decoder.handlers[COMMISSION_REPORT]

        def on_exec_details(fields: list[str]) -> None:
            if len(fields) > EXEC_TIME_FIELD:
                self.raw_times[fields[EXEC_ID_FIELD]] = fields[EXEC_TIME_FIELD]
            exec_details(fields)

        def on_commission_report(fields: list[str]) -> None:
            self.on_commission()
            if len(fields) > REPORT_PNL_FIELD and fields[REPORT_PNL_FIELD] in UNSET_PNL_TEXTS:
                self.unset_pnl.add(fields[REPORT_EXEC_ID_FIELD])
            commission_report(fields)

        decoder.handlers[EXEC_DETAILS] = on_exec_details
        decoder.handlers[COMMISSION_REPORT] = on_commission_report

    def raw_time(self, exec_id: str) -> str:
        return self.raw_times.get(exec_id, "")

    def pnl_unset(self, exec_id: str) -> bool:
        return exec_id in self.unset_pnl


class Connection:
    def __init__(
        self,
        *,
        taps: DecoderTaps,
        on_connected: Callable[[], Awaitable[None]],
        on_disconnected: Callable[[], None],
        on_order_message: Callable[[int, int, str], None],
        on_state: Callable[[], None],
    ) -> None:
        self.ib = IB()
        self._time_request: asyncio.Future[dt.datetime] | None = None
        self._time_sent = 0.0
        self.ib.RequestTimeout = settings.IB_REQUEST_TIMEOUT
        # ib_async's throttle (45 a second by default) against IB's limit of 50.
        self.ib.client.MaxRequests = settings.IB_MAX_MESSAGES_PER_SECOND
        self.connected = False
        # Connected but not answering (a frozen gateway keeps its socket open).
        self.unresponsive = False
        self.server_version = 0
        self.account = ""
        self.last_error = ""
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_order_message = on_order_message
        self._on_state = on_state
        self._wake: asyncio.Event | None = None
        self.stopping = False
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._disconnected
        taps.install(self.ib.client.decoder)

    def ready(self) -> bool:
        return self.connected and not self.unresponsive and self.ib.isConnected()

    async def run(self) -> None:
        """Connect, and connect again whenever the link drops, until stopped."""
        self._wake = asyncio.Event()
        delay = 0.25
        probing: asyncio.Task[None] | None = None
        last_probe = 0.0
        while not self.stopping:
            if not self.ib.isConnected():
                self.connected = False
                self._on_state()
                try:
                    await self._connect()
                    delay = 0.25
                except Exception as exc:  # any failure to connect means: retry later
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("IB Gateway connect failed (%s); retrying in %.1fs", exc, delay)
                    if self.ib.isConnected():
                        self.ib.disconnect()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, settings.IB_RECONNECT_MAX_DELAY)
                    continue
            now = time.monotonic()
            idle = probing is None or probing.done()
            if self.connected and idle and now - last_probe >= settings.IB_PROBE_EVERY:
                last_probe = now
                probing = asyncio.create_task(self._probe())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    def heartbeat(self) -> dict[str, Any]:
        """The worker's heartbeat in the mirror: the gateway's state, now."""
        return {
            "connected": self.connected and not self.unresponsive,
            "server_version": self.server_version,
            "account": self.account,
            "client_id": settings.IB_CLIENT_ID,
            "host": settings.IB_HOST,
            "port": settings.IB_PORT,
            "last_error": self.last_error,
            "ts": time.time(),
        }

    async def current_time(self, timeout: float) -> tuple[float, dt.datetime]:
        """reqCurrentTime: when it was sent (our clock) and the gateway's
        answer.  ib_async keeps one future for it, so a second request while
        one is out would leave the first unanswered: callers meanwhile share
        the one in flight (a new one goes out once that is older than
        ``timeout``, a gateway that recovered is asked afresh)."""
        now = time.time()
        request = self._time_request
        if request is None or request.done() or now - self._time_sent > timeout:
            self._time_sent = now
            request = self._time_request = asyncio.ensure_future(self.ib.reqCurrentTimeAsync())
        sent = self._time_sent
        answer = await asyncio.wait_for(asyncio.shield(request), timeout)
        return sent, answer

    async def _probe(self) -> None:
        """Ask the gateway the time: a frozen gateway (socket open, nothing
        answered) makes reads and orders 503 instead of serving stale data."""
        try:
            await self.current_time(settings.IB_PROBE_TIMEOUT)
        except (TimeoutError, ConnectionError):
            if self.connected and not self.unresponsive:
                self.unresponsive = True
                self.last_error = (
                    f"IB Gateway stopped answering (no reply in {settings.IB_PROBE_TIMEOUT:g} s)"
                )
                log.warning("%s", self.last_error)
                self._on_state()
            return
        if self.unresponsive:
            self.unresponsive = False
            self.last_error = ""
            log.info("IB Gateway answers again")
            self._on_state()

    async def _connect(self) -> None:
        await self.ib.connectAsync(
            settings.IB_HOST,
            settings.IB_PORT,
            clientId=settings.IB_CLIENT_ID,
            timeout=settings.IB_CONNECT_TIMEOUT,
            account=settings.IB_ACCOUNT,
            raiseSyncErrors=True,
        )
        self.server_version = self.ib.client.serverVersion()
        accounts = self.ib.managedAccounts()
        self.account = settings.IB_ACCOUNT or (accounts[0] if accounts else "")
        await self._on_connected()
        self.connected = True
        self.unresponsive = False
        self.last_error = ""
        log.info(
            "connected to IB Gateway %s:%s (server version %s, account %s)",
            settings.IB_HOST,
            settings.IB_PORT,
            self.server_version,
            self.account,
        )
        self._on_state()

    def close(self) -> None:
        self.stopping = True
        if self.ib.isConnected():
            self.ib.disconnect()

    def _disconnected(self) -> None:
        self.connected = False
        self._on_disconnected()
        self._on_state()
        if self._wake is not None:
            self._wake.set()

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        meaning = codes.meaning(code)
        if meaning is codes.Meaning.INFO:
            return
        if meaning is codes.Meaning.CONNECTIVITY_LOST:
            log.warning("IB connectivity lost (%s): %s", code, message)
        elif meaning is codes.Meaning.CONNECTIVITY_RESTORED:
            log.info("IB connectivity restored (%s): %s", code, message)
        if req_id > 0:
            self._on_order_message(req_id, code, message)

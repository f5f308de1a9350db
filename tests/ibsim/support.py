"""Helpers shared by the simulator tests: polling with a deadline, recording
error events, reading account values."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HOST = "127.0.0.1"
LIB_NAMES = ("ib_async", "ib_insync")
SERVER_VERSIONS = {"ib_async": 178, "ib_insync": 176}
AAPL_START = 236.42  # the universe's start price (the last); the walk is off in tests
# Its quote at the start: one cent of spread per USD 100 of price (ibsim.quotes).
AAPL_BID = 236.41
AAPL_ASK = 236.43
AAPL_CON_ID = 265598
START_CASH = 1_000_000.0


def wait_until(
    ib: Any, predicate: Callable[[], object], timeout: float = 3.0, what: str = "condition"
) -> None:
    """Run the client's event loop until `predicate()` is true, or fail."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        ib.sleep(0.02)


def wait_disconnected(ib: Any, timeout: float = 3.0) -> None:
    """Run the client's loop until the server has closed the connection (the
    libraries' sleep raises ConnectionError when a disconnect interrupts it)."""
    deadline = time.monotonic() + timeout
    while ib.isConnected():
        if time.monotonic() > deadline:
            raise AssertionError(f"still connected after {timeout}s")
        with contextlib.suppress(ConnectionError):
            ib.sleep(0.02)


def wait_status(ib: Any, trade: Any, status: str, timeout: float = 3.0) -> None:
    wait_until(
        ib,
        lambda: trade.orderStatus.status == status,
        timeout,
        f"order {trade.order.orderId} to be {status} (is {trade.orderStatus.status})",
    )


def account_value(ib: Any, tag: str) -> str | None:
    for value in ib.accountValues():
        if value.tag == tag and value.currency in ("USD", ""):
            return str(value.value)
    return None


def stock(api: Any, symbol: str = "AAPL") -> Any:
    return api.Stock(symbol, "SMART", "USD")


@dataclass
class ErrorLog:
    """Collects a client's errorEvent: (reqId, code, message)."""

    entries: list[tuple[int, int, str]] = field(default_factory=list)

    @classmethod
    def attach(cls, ib: Any) -> ErrorLog:
        log = cls()
        ib.errorEvent += log.on_error
        return log

    def on_error(self, req_id: int, code: int, message: str, *rest: Any) -> None:
        self.entries.append((req_id, code, message))

    def codes(self) -> list[int]:
        return [code for _, code, _ in self.entries]

    def find(self, code: int, req_id: int | None = None) -> tuple[int, int, str] | None:
        for entry in self.entries:
            if entry[1] == code and (req_id is None or entry[0] == req_id):
                return entry
        return None

    def wait_for(
        self, ib: Any, code: int, req_id: int | None = None, timeout: float = 3.0
    ) -> tuple[int, int, str]:
        wait_until(
            ib,
            lambda: self.find(code, req_id) is not None,
            timeout,
            f"error {code} for reqId {req_id} (got {self.entries})",
        )
        entry = self.find(code, req_id)
        assert entry is not None
        return entry

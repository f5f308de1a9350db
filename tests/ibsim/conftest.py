"""Fixtures for the simulator tests: a fresh simulator per test, real
ib_async / ib_insync clients over its socket, and a guard that fails the test
when a client's decoder could not handle a message."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import ib_async
import ib_insync
import pytest

from ibsim.testing import RunningSimulator, run_in_thread
from tests.ibsim.support import HOST, LIB_NAMES

LIBS: dict[str, ModuleType] = {"ib_async": ib_async, "ib_insync": ib_insync}


class DecoderErrors(logging.Handler):
    """Records what the clients' decoders log when a message does not parse."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        from_decoder = record.name.endswith(".Decoder") and record.levelno >= logging.ERROR
        if from_decoder or "Error handling fields" in record.getMessage():
            self.records.append(record)

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@pytest.fixture(autouse=True)
def decoder_errors() -> Iterator[DecoderErrors]:
    handler = DecoderErrors()
    loggers = [logging.getLogger(name) for name in LIB_NAMES]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    if handler.records:
        pytest.fail(f"client decoder errors:\n{handler.report()}")


def _stop(sim: RunningSimulator) -> None:
    if sim.thread.is_alive():
        sim.stop()


@pytest.fixture
def sim_factory() -> Iterator[Callable[..., RunningSimulator]]:
    """Starts simulators (port 0, walk off); stops the ones still running at teardown."""
    started: list[RunningSimulator] = []

    def start(**config: Any) -> RunningSimulator:
        sim = run_in_thread(**config)
        started.append(sim)
        return sim

    yield start
    for sim in reversed(started):
        _stop(sim)


@pytest.fixture
def sim(sim_factory: Callable[..., RunningSimulator]) -> RunningSimulator:
    return sim_factory()


class Clients:
    """Connects real clients to a simulator and disconnects them all at teardown."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.opened: list[Any] = []

    def connect(
        self,
        lib: str = "ib_async",
        client_id: int = 1,
        *,
        sim: RunningSimulator | None = None,
        timeout: float = 5.0,
    ) -> Any:
        ib = LIBS[lib].IB()
        ib.RequestTimeout = 10  # a request the simulator leaves unanswered fails, not hangs
        self.opened.append(ib)
        port = (sim or self.sim).port
        if lib == "ib_async":
            ib.connect(HOST, port, clientId=client_id, timeout=timeout, raiseSyncErrors=True)
        else:
            ib.connect(HOST, port, clientId=client_id, timeout=timeout)
        return ib

    def connect_retrying(self, lib: str, client_id: int, timeout: float = 5.0) -> Any:
        """Connect, retrying while the simulator refuses connections."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.connect(lib, client_id, timeout=2)
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close_all(self) -> None:
        for ib in reversed(self.opened):
            with contextlib.suppress(Exception):
                ib.disconnect()
        self.opened.clear()


@pytest.fixture
def clients(sim: RunningSimulator) -> Iterator[Clients]:
    pool = Clients(sim)
    try:
        yield pool
    finally:
        pool.close_all()


@pytest.fixture(params=LIB_NAMES)
def lib(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api(lib: str) -> ModuleType:
    """The client library module (ib_async or ib_insync): Stock, orders, IB."""
    return LIBS[lib]


@pytest.fixture
def ib(clients: Clients, lib: str) -> Any:
    """A connected client with clientId 1."""
    return clients.connect(lib, 1)

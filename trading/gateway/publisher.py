"""The state mirror's write side: snapshots and heartbeats go to the cache
from a thread of their own, so a slow Redis never stalls the gateway loop.
The web reads them through trading.mirror; the key names are trading.wire's.
Where the order bus runs on Redis, its intake writes the working orders
(with the answers, trading.gateway.intake) and this thread the rest."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from trading import wire

log = logging.getLogger("trading.gateway")

FULL_REPUBLISH_EVERY = 10.0  # seconds between full republishes of an unchanged state


def publish(snapshot: dict[str, Any]) -> None:
    """Store a snapshot (sections and/or heartbeat)."""
    values = {wire.MIRROR_PREFIX + key: value for key, value in snapshot.items()}
    cache.set_many(values, timeout=wire.MIRROR_TTL)


class Publisher:
    """Writes snapshots and heartbeats to the cache from a thread of its own, so
    a slow Redis never stalls the gateway loop.  Only the newest snapshot
    matters; a heartbeat goes out at least every second and at once on a
    connection change."""

    def __init__(self, heartbeat: Callable[[], dict[str, Any]]) -> None:
        self.heartbeat = heartbeat
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
        """Publish soon; sections offered meanwhile go out together, the
        newest of each."""
        with self.lock:
            self.latest = {**(self.latest or {}), **snapshot}
        self.wake.set()

    def beat(self) -> None:
        self.wake.set()

    def write(self, snapshot: dict[str, Any]) -> None:
        """Publish a snapshot's sections, each unless a newer state of it is out
        already (the orders published after a task's answer can overtake a
        full snapshot taken earlier: its orders are dropped, its account and
        positions still go out)."""
        snapshot = dict(snapshot)
        seq = snapshot.pop("_seq", None)
        with self.write_lock:
            if seq is not None:
                for section in list(snapshot):
                    if seq < self.written_seq.get(section, 0):
                        del snapshot[section]
                    else:
                        self.written_seq[section] = seq
            self._publish(snapshot)

    def _publish(self, snapshot: dict[str, Any]) -> None:
        if snapshot:
            self.last_full = {**self.last_full, **snapshot}
        stale = time.monotonic() - self.last_full_write > FULL_REPUBLISH_EVERY
        full = bool(self.last_full) and (self.failed or stale)
        if full:
            # After a Redis outage (or restart: it may have lost every key) the
            # whole state goes out again, with whatever changed meanwhile (a
            # section offered every second, the clock's, must not hold it up).
            snapshot = self.last_full
        try:
            publish({**snapshot, "heartbeat": self.heartbeat()})
        except Exception:  # Redis down: the next beat retries
            if not self.failed:
                log.warning("could not publish the gateway state", exc_info=True)
            self.failed = True
            return
        self.failed = False
        if full:
            self.last_full_write = time.monotonic()

    def _run(self) -> None:
        while self.running:
            self.wake.wait(1.0)
            self.wake.clear()
            with self.lock:
                snapshot, self.latest = self.latest, None
            self.write(snapshot or {})

"""IB's events into the journal (and the audit trail's reconciled outcomes),
from a thread of its own: database writes never stall the gateway loop.  A
write that fails is logged; the next scheduled sync stores what it missed.

The events that came in together are written in one transaction (each in a
savepoint of its own, so one bad row does not lose the others), whose commit
does not wait for the disk (journal.durability): on PostgreSQL each order's
openOrder and orderStatus were two commits, each an fsync that the web's
audit INSERT for the next order queued behind."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, transaction

from journal import services
from journal.durability import commit_without_flush_wait
from trading import audit

log = logging.getLogger("trading.gateway")

WRITER_PAUSE = 0.005  # seconds the writer yields before a write
# Seconds the writer waits at most for the orders in progress to be answered:
# its ORM work holds the GIL the gateway loop needs (up to the interpreter's
# switch interval at a time) exactly when their acknowledgements arrive.
QUIET_WAIT = 0.1
# Rows of the journal, written together (the sync and the audit trail's
# reconciliations on their own, in order).
ROW_WRITES = frozenset({"execution", "commission", "order"})


class JournalFeed:
    """Stores fills, commissions and order states in the journal from a thread
    of its own (database writes never stall the gateway loop), and runs the
    sync after every (re)connect.  A write that fails is logged; the next
    scheduled sync stores what it missed."""

    def __init__(
        self,
        fetch_history: Callable[[], dict[str, list[dict[str, Any]]]],
        quiet: Callable[[], bool] = lambda: True,
    ) -> None:
        self.fetch_history = fetch_history
        self.quiet = quiet
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
        while True:
            batch = [self.queue.get()]
            if batch[0] is not None and batch[0][0] != "barrier":
                # Let the order that caused this event be acknowledged first: the
                # journal is not latency-critical, the gateway loop is. Then write
                # everything that has come in meanwhile in one go.
                time.sleep(WRITER_PAUSE)
                deadline = time.monotonic() + QUIET_WAIT
                while not self.quiet() and time.monotonic() < deadline:
                    time.sleep(0.001)
            while True:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if not self._write(batch):
                return

    def _write(self, batch: list[tuple[str, Any] | None]) -> bool:
        """Write a batch in order; False once the stop marker is reached."""
        rows: list[tuple[str, Any]] = []
        for item in batch:
            if item is not None and item[0] in ROW_WRITES:
                rows.append(item)
                continue
            self._write_rows(rows)
            rows = []
            if item is None:
                return False
            self._handle(item)
        self._write_rows(rows)
        return True

    def _write_rows(self, rows: list[tuple[str, Any]]) -> None:
        if not rows:
            return
        try:
            with transaction.atomic():
                commit_without_flush_wait()
                for kind, data in rows:
                    try:
                        with transaction.atomic():  # a savepoint: one bad row alone is lost
                            self._apply(kind, data)
                    except Exception:  # keep writing; the scheduled sync repairs gaps
                        log.exception("journal write failed (%s)", kind)
        except Exception:  # the transaction itself (the database gone): the sync repairs it
            log.exception("journal write failed (%d events)", len(rows))
            close_old_connections()

    def _handle(self, item: tuple[str, Any]) -> None:
        kind, data = item
        try:
            self._apply(kind, data)
        except Exception:  # keep writing; the scheduled sync repairs gaps
            log.exception("journal write failed (%s)", kind)
            close_old_connections()

    def _apply(self, kind: str, data: Any) -> None:
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
            services.executions_sync(fetch=self.fetch_history, trigger=data)
        elif kind == "audit":
            audit.request_reconciled(pk=data["id"], state=data["state"], perm_ids=data["perm_ids"])
        elif kind == "barrier":
            data.set()

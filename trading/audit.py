"""Writes the audit trail's outcomes from a thread of the web process, so a
busy database (SQLite's single writer, shared with the journal) never delays
an order's answer.  The request row itself is written before the order is
queued, synchronously: that part of the trail is never lost."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from django.db import close_old_connections

log = logging.getLogger("trading.audit")

_queue: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue()
_thread: threading.Thread | None = None
_lock = threading.Lock()


def _run() -> None:
    from trading.models import OrderRequestLog

    while True:
        item = _queue.get()
        if item is None:
            return
        pk, fields = item
        try:
            row = OrderRequestLog.objects.filter(pk=pk)
            # What the worker reconciled after a restart (orphan_*) is the
            # truer story than the web's timeout: keep its state and permIds.
            keep = {
                k: fields.pop(k)
                for k in ("latency_ms", "answered_at", "http_status")
                if k in fields
            }
            row.update(**keep)
            row.exclude(state__startswith="orphan_").exclude(state="not_placed").update(**fields)
        except Exception:  # the outcome is also in the worker's logs
            log.exception("could not record the outcome of order request %s", pk)
            close_old_connections()
        finally:
            _queue.task_done()


def record_outcome(pk: int, **fields: Any) -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_run, name="audit-writer", daemon=True)
            _thread.start()
    _queue.put((pk, fields))


def flush() -> None:
    """Wait until every queued outcome is written (tests, shutdown)."""
    _queue.join()

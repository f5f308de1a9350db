"""The audit trail's one writer (``OrderRequestLog``).

The request row is written before the order is queued, synchronously: it is
committed (visible to every connection: admin, the worker's reconciliation)
before anything is sent.  The same statement reads the kill switch (``INSERT
... RETURNING``), so an order costs the database one round trip before it is
queued, and the switch is read from the database itself, never from a copy
that could be stale.  With an ``Idempotency-Key`` the key's record goes in
the same transaction, and that commit waits for the disk: the key must
survive any crash, or a retry could place the order twice.  Without a key,
on PostgreSQL, the row's commit does not wait for the WAL flush (the same
round trip sets ``synchronous_commit`` off for it, journal.durability): a
crash of the PostgreSQL server within a fraction of a second of it could
lose the row, as a power loss could lose SQLite's last commits in WAL mode
with ``synchronous=NORMAL`` (settings); the order itself stays in IB and, by
the next sync, in the journal.
Its outcome is written from a thread of the web process, so a busy database
(SQLite's single writer, shared with the journal) never delays an order's
answer.  The gateway worker writes what it
reconciled after a restart (``request_reconciled``).

The loss window, stated: outcomes wait in memory for milliseconds (longer
while the database is locked).  Every exit of the web process that runs
Python's exit handlers (a graceful gunicorn stop or reload, SIGTERM, the end
of a worker after max-requests, an exception) first writes what is queued
(``flush``, at most FLUSH_AT_EXIT seconds).  A SIGKILL or power loss in that
window loses those outcomes; their rows stay ``queued`` with the request as
sent, and the order itself is in the journal and in IB."""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from journal.durability import WITHOUT_FLUSH_WAIT, commit_without_flush_wait
from trading.exceptions import OUTCOME_ERRORS, DomainError
from trading.models import ApiToken, OrderRequestLog, TradingControl
from trading.wire import Outcome

log = logging.getLogger("trading.audit")
State = OrderRequestLog.State

# What the next worker reconciled is the truer story than the web's timeout:
# an outcome written later never overwrites these states.
RECONCILED = (State.ORPHAN_FILLED, State.ORPHAN_CANCELLED, State.ORPHAN_DONE, State.NOT_PLACED)
_STATE_OF_ERROR = {error: State(kind.value) for kind, error in OUTCOME_ERRORS.items()}


@dataclass(frozen=True)
class Actor:
    """Who asks: for the audit trail and the live-trading check."""

    client: str
    token: ApiToken | None = None
    remote_addr: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class Statement:
    """A caller's own write that goes with the audit row: in its transaction
    and its round trip (v2api's client_order_id).  ``check`` reads the row
    it returned (None: none) and may refuse the request, after the commit."""

    sql: str
    params: list[Any]
    check: Callable[[tuple[Any, ...] | None], DomainError | None]


@dataclass(frozen=True)
class Opened:
    """A request's audit row, and the kill switch as the same statement read
    it: its reason ("" when none was given), or None while trading is on;
    what the caller's statement returned."""

    row: OrderRequestLog
    halted: str | None
    found: tuple[Any, ...] | None = None


def request_opened(
    *,
    endpoint: str,
    body: dict[str, Any],
    actor: Actor,
    also: Callable[[], object] | None = None,
    statement: Statement | None = None,
) -> Opened:
    """Write the request's row (committed when this returns) and read the
    kill switch in the same statement.  ``also`` writes more in the same
    transaction, before the row (the Idempotency-Key's record: a duplicate
    key raises there, and nothing is written); ``statement`` too, in the
    row's round trip."""
    row = OrderRequestLog(
        endpoint=endpoint,
        client=actor.client,
        remote_addr=actor.remote_addr,
        idempotency_key=actor.idempotency_key,
        body=body,
    )
    if also is None:
        return _insert_reading_halt(row, statement)
    with transaction.atomic():
        also()
        return _insert_reading_halt(row, statement)


_insert_sql: dict[str, tuple[str, list[Any]]] = {}


def _insert_statement() -> tuple[str, list[Any]]:
    """``INSERT INTO <log> (...) VALUES (...) RETURNING id, <the kill switch>``
    for this database (SQLite has RETURNING since 3.35; Django needs 3.31)."""
    cached = _insert_sql.get(connection.vendor)
    if cached is not None:
        return cached
    qn = connection.ops.quote_name
    log_meta, control_meta = OrderRequestLog._meta, TradingControl._meta
    fields = [f for f in log_meta.concrete_fields if not f.primary_key]
    reason = str(control_meta.get_field("reason").column)
    halted = str(control_meta.get_field("halted").column)
    sql = (
        f"INSERT INTO {qn(log_meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"RETURNING {qn(str(log_meta.pk.column))}, "
        f"(SELECT {qn(reason)} FROM {qn(control_meta.db_table)} WHERE {qn(halted)} = %s LIMIT 1)"
    )
    _insert_sql[connection.vendor] = (sql, fields)
    return sql, fields


# PostgreSQL runs the statements of one query string as one transaction: this
# one's commit does not wait for the WAL flush, in the INSERT's round trip
# (journal.durability.WITHOUT_FLUSH_WAIT).


def _insert_reading_halt(row: OrderRequestLog, statement: Statement | None) -> Opened:
    sql, fields = _insert_statement()
    values = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
    found = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            if statement is None:
                cursor.execute(WITHOUT_FLUSH_WAIT + sql, [*values, True])
            else:
                joined = f"{WITHOUT_FLUSH_WAIT}{statement.sql}; {sql}"
                cursor.execute(joined, [*statement.params, *values, True])
                cursor.cursor.nextset()
                found = cursor.fetchone()
            cursor.cursor.nextset()  # the INSERT's row comes after the SET's status
        else:
            if statement is not None:
                cursor.execute(statement.sql, statement.params)
                found = cursor.fetchone()
            cursor.execute(sql, [*values, True])
        pk, halted = cursor.fetchone()
    row.pk = pk
    row._state.adding = False
    row._state.db = connection.alias
    return Opened(row, None if halted is None else str(halted), found)


def request_refused(row: OrderRequestLog, error: DomainError) -> None:
    """Refused before it was queued (kill switch, limits, live, gateway down)."""
    row.state = State.REFUSED
    row.http_status = error.status_code
    row.error = str(error.detail)
    row.answered_at = timezone.now()
    row.save()


def outcome_fields(
    *, outcome: Outcome | None, error: DomainError | None, latency_ms: float
) -> dict[str, Any]:
    """The columns an answered request gets: its state (the outcome's kind,
    or the transport's failure), status, permIds, error and IB's warnings."""
    fields: dict[str, Any] = {"latency_ms": latency_ms, "answered_at": timezone.now()}
    if outcome is not None and outcome.get("warnings"):
        fields["warnings"] = outcome["warnings"]
    if error is None:
        assert outcome is not None
        perm_ids = outcome.get("perm_ids") or [outcome.get("perm_id")]
        return {**fields, "state": State.DONE, "http_status": 200, "perm_ids": perm_ids}
    if outcome is not None and not outcome.get("ok"):
        state = State(outcome.kind.value)
    else:  # the transport failed: no outcome came
        state = _STATE_OF_ERROR.get(type(error), State.WORKER_ERROR)
    return {
        **fields,
        "state": state,
        "http_status": error.status_code,
        "error": str(error.detail),
        "error_code": (outcome.get("code") if outcome is not None else None) or None,
    }


def request_reconciled(*, pk: int, state: str, perm_ids: list[int]) -> None:
    """From the gateway worker: what became of a request whose worker died."""
    OrderRequestLog.objects.filter(pk=pk).update(
        state=State(state),
        perm_ids=perm_ids,
        error=f"reconciled after a worker restart: {state}",
    )


# --- outcomes, written off the answer path ----------------------------------------

FLUSH_AT_EXIT = 10.0  # seconds an exiting process waits for queued outcomes
# Seconds the writer lets pass before it writes: the answer goes out first (its
# ORM work would hold the GIL the request's thread needs to send the answer).
WRITER_PAUSE = 0.005

_queue: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue()
_thread: threading.Thread | None = None
_lock = threading.Lock()


def _run() -> None:
    while True:
        item = _queue.get()
        if item is not None:
            time.sleep(WRITER_PAUSE)
        while True:
            if item is None:
                _queue.task_done()
                return
            _write(*item)
            try:
                item = _queue.get_nowait()
            except queue.Empty:
                break


def _write(pk: int, fields: dict[str, Any]) -> None:
    try:
        row = OrderRequestLog.objects.filter(pk=pk)
        keep = {
            k: fields.pop(k)
            for k in ("latency_ms", "answered_at", "http_status", "warnings")
            if k in fields
        }
        # One statement, except in the rare case a reconciliation came first;
        # a report of what happened, so its commit does not wait for the disk.
        with transaction.atomic():
            commit_without_flush_wait()
            if not row.exclude(state__in=RECONCILED).update(**keep, **fields):
                row.update(**keep)
    except Exception:  # the outcome is also in the worker's logs
        log.exception("could not record the outcome of order request %s", pk)
        close_old_connections()
    finally:
        _queue.task_done()


def outcome_recorded(pk: int, fields: dict[str, Any]) -> None:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            if _thread is None:
                atexit.register(flush, FLUSH_AT_EXIT)
            _thread = threading.Thread(target=_run, name="audit-writer", daemon=True)
            _thread.start()
    _queue.put((pk, fields))


def flush(timeout: float | None = None) -> bool:
    """Wait until every queued outcome is written (at exit, tests); False if
    some were still waiting after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while _queue.unfinished_tasks:
        if deadline is not None and time.monotonic() >= deadline:
            log.error("%d audit outcomes not written at exit", _queue.unfinished_tasks)
            return False
        time.sleep(0.005)
    return True

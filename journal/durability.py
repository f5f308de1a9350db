"""Transactions whose commit need not wait for the disk.

On PostgreSQL every commit waits, by default, until its WAL record is flushed
(an fdatasync: 0.5 to 4 ms on the bench's machine, longer while other commits
queue for the same disk).  Some writes do not need that: the journal's live
capture (the next sync stores whatever a crash lost) and the audit trail's
outcomes (reports of what already happened).  They commit with
``synchronous_commit`` off for their own transaction: committed all the same
(atomic, visible to every other connection at once); only a crash of the
PostgreSQL server in the fraction of a second before the WAL writer flushes
(at most three ``wal_writer_delay``, 0.6 s by default) could lose them.  SQLite
in WAL mode with ``synchronous=NORMAL`` (settings) already commits without an
fsync.  The audit row written before an order is queued takes the same
trade-off when the request carries no Idempotency-Key (trading.audit: the
order itself stays in IB and, by the next sync, in the journal).  Writes that
must survive a crash keep the default: an Idempotency-Key's record (else a
retry could place the order twice), the kill switch, tokens."""

from __future__ import annotations

from django.db import connection

# The same, for a statement sent with it in one query string outside a
# transaction: PostgreSQL runs the statements of one string as one transaction.
WITHOUT_FLUSH_WAIT = "SET LOCAL synchronous_commit TO OFF; "


def commit_without_flush_wait() -> None:
    """Call first inside ``transaction.atomic()``: that transaction's commit
    returns without waiting for the WAL flush (PostgreSQL; elsewhere a no-op)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

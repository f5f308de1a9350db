"""IB's order and execution vocabulary, each rule once.

The journal is the lowest layer (it imports nothing from ``trading``), so the
rules both apps need live here: which order statuses are working or finished,
how an execId's revision is read, how times are written in the API."""

from __future__ import annotations

import datetime as dt

# Order statuses that mean "still working" (GET /orders shows these).
WORKING_STATUSES = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted"})
# Statuses after which nothing more happens to an order.
FINISHED_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
# Statuses that end an order without a fill (a cancel, a rejection).
CANCELLED_STATUSES = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
# Not yet sent on by the gateway: an order acknowledged in one of these waits
# briefly for its first real status (trading.gateway.orders).
UNSENT_STATUSES = frozenset({"PendingSubmit", "ApiPending"})


def split_exec_id(exec_id: str) -> tuple[str, int]:
    """`0000e0d5.6578b1c2.01.01` -> (`0000e0d5.6578b1c2.01`, 1).

    IB corrects an execution by sending it again with the last part of its
    execId raised (`.01` -> `.02`); the stem names the execution, the
    revision (compared as a number) says which copy is the newest."""
    stem, sep, suffix = exec_id.rpartition(".")
    if sep and suffix.isdigit():
        return stem, int(suffix)
    return exec_id, 1


def api_times(when: dt.datetime) -> tuple[str, str]:
    """An execution time as the API writes it, in UTC: the guide's
    ``"YYYYMMDD HH:MM:SS"`` and ISO 8601 with a ``Z``
    (``"2025-01-01T09:30:00Z"``, microseconds kept when there are any).
    String slicing, not strftime: /executions formats thousands of these."""
    stamp = when.astimezone(dt.UTC).isoformat()  # 2025-01-01T09:30:00[.123456]+00:00
    guide = f"{stamp[0:4]}{stamp[5:7]}{stamp[8:10]} {stamp[11:19]}"
    return guide, (stamp[:26] if stamp[19:20] == "." else stamp[:19]) + "Z"


def utc_z(when: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as every timestamp of the API."""
    return api_times(when)[1]

"""Django's PostgreSQL backend, with the connection health check skipped for
a connection that has just worked.

With persistent connections (``CONN_MAX_AGE``) and ``CONN_HEALTH_CHECKS``,
Django runs ``SELECT 1`` before the first query of every request that reuses
a connection.  The profile of the order path (docs/benchmarks.md) measured it
at 0.03 ms on an idle machine and 0.4 ms (p50) under the bench's load: one
more round trip to another process on two busy cores, on every order, for a
connection that answered a moment ago.  Here a connection that completed a
statement within the last ``FRESH_FOR`` seconds is not checked; an idle one
(a quiet night, a restart of PostgreSQL meanwhile) still is.

What that gives up, stated: if PostgreSQL goes away in those seconds, the
next request's first statement fails instead of reconnecting first.  That
request answers 503 ("database unreachable", and nothing was sent: an order's
audit row is its first statement), Django drops the connection at the end of
it (``errors_occurred``), and the next request connects anew."""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base

FRESH_FOR = 2.0  # seconds after a completed statement that a connection is trusted


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # Django's own flag (set in BaseDatabaseWrapper.__init__)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answered_at = float("-inf")  # time.monotonic() of the last completed statement
        self.execute_wrappers.append(self._note_answer)

    def _note_answer(self, execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        self.answered_at = time.monotonic()
        return result

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and time.monotonic() - self.answered_at < FRESH_FOR
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self) -> None:
        super().close()
        self.answered_at = float("-inf")

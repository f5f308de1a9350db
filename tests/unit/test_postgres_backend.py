"""ibkr_project.postgresql: a connection that completed a statement within
FRESH_FOR seconds is not health-checked at a request's start (issue 18: the
SELECT 1 was a round trip on every order); an idle one still is.  Against the
real PostgreSQL, whose server ends our session (pg_terminate_backend) as a
restart would; SQLite has no such check to skip."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import DatabaseError, close_old_connections, connection

from ibkr_project.postgresql.base import FRESH_FOR
from trading.models import TradingControl

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="a PostgreSQL backend: the PostgreSQL pass"
    ),
]


def _end_our_session() -> None:
    """What a restart of PostgreSQL does to a connection Django keeps open."""
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"] or "postgres",
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def _request(work: object) -> object:
    """One request as Django's handler runs it: connections looked at before
    and after (request_started / request_finished)."""
    close_old_connections()
    try:
        return work() if callable(work) else None
    finally:
        close_old_connections()


def test_an_idle_connection_is_checked_and_replaced_before_the_request_uses_it() -> None:
    _request(lambda: TradingControl.objects.count())
    _end_our_session()
    connection.answered_at = time.monotonic() - FRESH_FOR - 1  # type: ignore[attr-defined]  # idle a while

    assert _request(lambda: TradingControl.objects.count()) == 0


def test_a_connection_that_just_answered_is_not_checked_and_a_failure_replaces_it() -> None:
    """The price of skipping the check, stated in the backend: the first
    statement fails (the request answers 503 and, for an order, sends
    nothing), the connection is dropped at the request's end, and the next
    request works."""
    _request(lambda: TradingControl.objects.count())
    _end_our_session()

    with pytest.raises(DatabaseError):
        _request(lambda: TradingControl.objects.count())
    assert _request(lambda: TradingControl.objects.count()) == 0

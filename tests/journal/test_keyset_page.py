"""Keyset pages of the journal's executions (GET /v2/account/activities):
IB times executions to the second, so many share one instant; a page that
ends inside such a second continues inside it, with no row lost or repeated,
both ways; and the page is a range scan of the index on (executed_at, id),
never a sort of the whole table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from journal import selectors, services
from tests.journal.factories import execution_data
from v2api import activities

pytestmark = pytest.mark.django_db

SECOND = dt.datetime(2026, 1, 5, 15, 34, 6, tzinfo=dt.UTC)


def store(count: int, when: dt.datetime) -> None:
    for _ in range(count):
        services.execution_record(data=execution_data(executed_at=when.isoformat()), source="t")


def walk(newest_first: bool, size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    start = None
    while page := selectors.executions_keyset_page(
        size=size, newest_first=newest_first, start=start
    ):
        pages.append([row["id"] for row in page])
        start = (page[-1]["executed_at"], page[-1]["id"])
    return pages


def test_pages_that_end_inside_one_second_continue_inside_it_both_ways() -> None:
    store(2, SECOND - dt.timedelta(seconds=1))
    store(5, SECOND)  # five fills in one second
    store(1, SECOND + dt.timedelta(seconds=1))

    newest_first, oldest_first = walk(True, 3), walk(False, 3)

    assert [len(p) for p in newest_first] == [3, 3, 2] == [len(p) for p in oldest_first]
    every = [pk for page in newest_first for pk in page]
    assert len(set(every)) == 8
    assert [pk for page in oldest_first for pk in page] == list(reversed(every))


def test_a_page_token_names_the_row_to_continue_after() -> None:
    store(3, SECOND)
    [first, second, third] = activities.activities_list(page_size=3)

    rest = activities.activities_list(page_size=3, page_token=first["id"])

    assert [row["id"] for row in rest] == [second["id"], third["id"]]


def test_a_deep_page_is_a_range_scan_of_the_time_index() -> None:
    """Whichever the database: the index on (executed_at, id) gives the
    page's order, so no sort is needed.  (PostgreSQL's planner prefers a
    scan and a sort on a near-empty table; with those off, it must still
    find a plan, which only the index gives.  At 10^6 rows it picks the
    index unprompted: journal.selectors.executions_keyset_page.)"""
    start = (SECOND, 1_000)
    for newest_first in (True, False):
        query = selectors.executions_keyset_query(newest_first=newest_first, start=start)[:100]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for method in ("seqscan", "bitmapscan", "sort"):
                    cursor.execute(f"SET LOCAL enable_{method} = off")

        plan = query.explain()

        assert "exec_time_idx" in plan
        assert "TEMP B-TREE" not in plan  # SQLite's sort
        assert "Sort" not in plan  # PostgreSQL's

"""Execution times are stored as the instant they are, whatever zone the input
is in and whatever the process's local time zone."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from journal import services
from journal.models import Execution
from journal.selectors import execution_row
from tests.journal.factories import execution_data
from tests.stack import ROOT, database_url

NEW_YORK = ZoneInfo("America/New_York")
# New York wall-clock times (winter: UTC-5, summer: UTC-4), their fold, and the
# UTC instants they are.  The autumn DST change has 01:30 twice: fold 1 is the
# second one (EST).
CASES = [
    ("2024-01-15T09:30:25", 0, "2024-01-15T14:30:25+00:00"),
    ("2024-07-15T09:30:25", 0, "2024-07-15T13:30:25+00:00"),
    ("2024-11-03T01:30:00", 0, "2024-11-03T05:30:00+00:00"),
    ("2024-11-03T01:30:00", 1, "2024-11-03T06:30:00+00:00"),
]
# 2024-01-15 14:30:25 UTC, to read a zone's offset in winter.
WINTER = 1705329025


def _new_york(wall: str, fold: int) -> dt.datetime:
    return dt.datetime.fromisoformat(wall).replace(tzinfo=NEW_YORK, fold=fold)


@pytest.fixture
def local_zone() -> Iterator[None]:
    """Restore the process's TZ (Django sets it to settings.TIME_ZONE)."""
    before = os.environ.get("TZ")
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("local", "offset"),
    [("Asia/Tokyo", "+0900"), ("America/Los_Angeles", "-0800"), ("UTC", "+0000")],
)
@pytest.mark.usefixtures("local_zone")
def test_new_york_times_are_stored_as_utc_whatever_the_local_zone(local: str, offset: str) -> None:
    os.environ["TZ"] = local
    time.tzset()
    assert time.strftime("%z", time.localtime(WINTER)) == offset

    for wall, fold, expected in CASES:
        when = _new_york(wall, fold)
        for value in (when, when.isoformat()):  # an aware datetime or an ISO string
            data = execution_data(executed_at=value)
            services.execution_record(data=data, source="trades()")
            row = Execution.objects.get(exec_id=data["exec_id"])
            assert row.executed_at.tzinfo is not None
            assert row.executed_at.astimezone(dt.UTC).isoformat() == expected
            assert row.executed_at == when.astimezone(dt.UTC)
            assert execution_row(row)["timestamp"] == expected.replace("+00:00", "Z")


# The subprocess records each case with the given aware time and prints the
# stored time in UTC.  Django sets TZ from settings.TIME_ZONE at start-up, so
# the script puts the zone under test back before it records anything.
SCRIPT = """
import datetime as dt, json, os, sys, time
from zoneinfo import ZoneInfo
from journal import services
from journal.models import Execution
os.environ["TZ"] = {zone!r}
time.tzset()
print("local", time.strftime("%z", time.localtime({winter})))
for exec_id, wall, fold, data in json.loads({cases!r}):
    when = dt.datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo("America/New_York"), fold=fold)
    services.execution_record(data=dict(data, executed_at=when), source="trades()")
    row = Execution.objects.get(exec_id=exec_id)
    print(exec_id, row.executed_at.astimezone(dt.UTC).isoformat())
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("zone", "offset"), [("Asia/Tokyo", "+0900"), ("America/Los_Angeles", "-0800")]
)
def test_a_process_in_another_local_zone_stores_the_same_instants(zone: str, offset: str) -> None:
    cases = []
    for wall, fold, _ in CASES:
        data = execution_data()
        data.pop("executed_at")
        cases.append([data["exec_id"], wall, fold, data])
    env = {
        **os.environ,
        "TZ": zone,
        "DATABASE_URL": database_url(connections["default"].settings_dict),
    }
    command = SCRIPT.format(zone=zone, winter=WINTER, cases=json.dumps(cases))

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == f"local {offset}"
    printed = dict(line.split(" ", 1) for line in lines[1:] if line)
    for (exec_id, *_), (*_, expected) in zip(cases, CASES, strict=True):
        assert printed[exec_id] == expected
        # This process reads back the same instant.
        stored = Execution.objects.get(exec_id=exec_id).executed_at
        assert stored.astimezone(dt.UTC).isoformat() == expected

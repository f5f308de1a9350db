"""export_executions: CSV or JSON, oldest first, filtered by symbol and time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from journal import services
from journal.admin import EXPORT_FIELDS
from tests.journal.factories import execution_data

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2024, 1, 15, 14, 30, 25, tzinfo=dt.UTC)


@pytest.fixture
def fills() -> list[dict[str, Any]]:
    """Four fills on three days, recorded newest first (the export sorts them)."""
    specs = [
        ("AAPL", "BUY", BASE, 1.0, None),
        ("MSFT", "SELL", BASE + dt.timedelta(hours=1), 1.0, 25.5),
        ("AAPL", "SELL", BASE + dt.timedelta(days=1), None, None),
        ("TSLA", "BUY", BASE + dt.timedelta(days=2), 2.5, -3.25),
    ]
    rows = []
    for symbol, side, when, commission, pnl in specs:
        extra = (
            {"commission": commission, "commission_currency": "USD", "realized_pnl": pnl}
            if commission is not None
            else {}
        )
        rows.append(
            execution_data(
                symbol=symbol, side=side, executed_at=when.isoformat(), order_ref="exp", **extra
            )
        )
    for data in reversed(rows):
        services.execution_record(data=data, source="trades()")
    return rows


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_executions", *args, stdout=out)
    return out.getvalue()


def csv_rows(text: str) -> list[dict[str, str]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == EXPORT_FIELDS
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_csv_lists_every_execution_oldest_first(fills: list[dict[str, Any]]) -> None:
    rows = csv_rows(export("--format", "csv"))

    assert [r["exec_id"] for r in rows] == [f["exec_id"] for f in fills]
    first = rows[0]
    assert first["symbol"] == "AAPL"
    assert first["side"] == "BUY"
    assert first["quantity"] == "10.0000"
    assert first["price"] == "230.500000"
    assert first["executed_at"] == "2024-01-15T14:30:25+00:00"
    assert first["commission"] == "1.000000"
    assert first["commission_currency"] == "USD"
    assert first["realized_pnl"] == ""
    assert first["order_ref"] == "exp"
    assert first["source"] == "trades()"
    assert rows[1]["realized_pnl"] == "25.500000"
    assert rows[2]["commission"] == ""


def test_csv_is_the_default_format(fills: list[dict[str, Any]]) -> None:
    assert export() == export("--format", "csv")


def test_json_lists_every_execution_oldest_first(fills: list[dict[str, Any]]) -> None:
    rows = json.loads(export("--format", "json"))

    assert [r["exec_id"] for r in rows] == [f["exec_id"] for f in fills]
    assert list(rows[0]) == EXPORT_FIELDS
    assert rows[0]["executed_at"] == "2024-01-15T14:30:25+00:00"
    assert rows[0]["price"] == "230.500000"
    assert rows[0]["perm_id"] == fills[0]["perm_id"]
    assert rows[0]["realized_pnl"] is None
    assert rows[2]["commission"] is None
    assert rows[3]["realized_pnl"] == "-3.250000"


def test_json_of_an_empty_journal_is_an_empty_list() -> None:
    assert json.loads(export("--format", "json")) == []
    assert csv_rows(export("--format", "csv")) == []


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--symbol", "AAPL"], [0, 2]),
        (["--symbol", "aapl"], [0, 2]),
        (["--symbol", "NVDA"], []),
        (["--since", "2024-01-16"], [2, 3]),
        (["--since", "2024-01-15T15:30:25Z"], [1, 2, 3]),  # inclusive
        (["--until", "2024-01-15T15:30:25Z"], [0]),  # exclusive
        (["--since", "2024-01-15T10:00:00-05:00", "--until", "2024-01-16"], [1]),
        (["--since", "2024-01-15", "--until", "2024-01-17", "--symbol", "AAPL"], [0, 2]),
        (["--since", "2024-01-16T00:00:00", "--symbol", "TSLA"], [3]),
    ],
)
def test_filters(
    fills: list[dict[str, Any]], fmt: str, args: list[str], expected: list[int]
) -> None:
    text = export("--format", fmt, *args)

    rows = csv_rows(text) if fmt == "csv" else json.loads(text)
    assert [r["exec_id"] for r in rows] == [fills[i]["exec_id"] for i in expected]


def test_output_to_a_file(fills: list[dict[str, Any]], tmp_path: Path) -> None:
    target = tmp_path / "executions.json"

    assert export("--format", "json", "--output", str(target)) == ""

    rows = json.loads(target.read_text())
    assert [r["exec_id"] for r in rows] == [f["exec_id"] for f in fills]


def test_a_bad_time_is_an_error() -> None:
    with pytest.raises(CommandError, match="not an ISO 8601"):
        export("--since", "yesterday")


def test_an_unknown_format_is_an_error() -> None:
    with pytest.raises(CommandError):
        export("--format", "xml")

"""`python -m bench --smoke` (`make bench-smoke`) runs end to end on both
databases: for each, a fresh database of its own (a SQLite file, a PostgreSQL
database created and dropped), the stack on the simulator, every measurement
with tiny counts; and one results file with every figure and the full list of
targets of each database.  Timings are noisy, so whether a target passes is
not asserted here; `make bench` is where they are judged.

It measures both databases itself, whatever the test run's database is, so it
runs in the SQLite pass of `make test` only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET_NAMES = [
    "order_p50_vs_floors",
    "v2_order_p50_vs_floors",
    "delay_anchor_p50_vs_api",
    "delay_api_p50_vs_floor_a",
    "sustained_orders_per_s",
    "sustained_pacing_errors",
    "read_account_p50_vs_floor_b",
    "read_positions_p50_vs_floor_b",
    "read_orders_p50_vs_floor_b",
    "read_executions_p50_vs_floor_b",
    "read_account_errors_c16",
    "read_positions_errors_c16",
    "read_orders_errors_c16",
    "read_executions_errors_c16",
    "journal_p50_1e6_vs_1e3",
    "v2_closed_orders_p50_1e6_vs_1e3",
]

DATABASES = ["sqlite", "postgres"]

pytestmark = [
    pytest.mark.stack,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="measures both databases itself: runs in the SQLite pass",
    ),
]


def test_smoke_run_writes_every_figure_and_target_of_both_databases(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(output.read_text())

    assert data["mode"] == "smoke"
    assert list(data["databases"]) == DATABASES
    assert [(t["database"], t["name"]) for t in data["targets"]] == [
        (database, name) for database in DATABASES for name in TARGET_NAMES
    ]
    for target in data["targets"]:
        assert set(target) >= {"database", "name", "value", "target", "pass"}
        assert isinstance(target["pass"], bool)
    assert {t["target"] for t in data["targets"] if t["name"] == "order_p50_vs_floors"} == {1.5}
    for database in DATABASES:
        run = data["databases"][database]
        assert run["database"] == database
        expected = "SQLite" if database == "sqlite" else "PostgreSQL"
        assert run["stack"]["database"].startswith(expected)
        check_every_measurement(run)
    # PASS/FAIL lines for every target of each database on the way.
    for database in DATABASES:
        for name in TARGET_NAMES:
            assert f" {database} {name}: " in done.stdout


def check_every_measurement(data: dict[str, Any]) -> None:
    """Every measurement ran and answered (no failed requests in a quiet run)."""
    for delay in ("no_delay", "delay"):
        for clients in ("c1", "c8"):
            for path in ("api", "floor_a", "floor_b", "anchor"):
                sample = data["orders"][delay][clients][path]
                assert sample["p50_ms"] is not None, (delay, clients, path, sample)
                assert sample["errors"] == 0, (delay, clients, path, sample)
    v2 = data["orders"]["no_delay"]["c1"]["api_v2"]
    assert v2["p50_ms"] is not None
    assert v2["errors"] == 0
    assert data["sustained"]["acknowledged"] > 0
    assert data["sustained"]["pacing_errors"] is not None
    for clients in ("c1", "c16"):
        for name in ("account", "positions", "orders", "executions", "floor_b"):
            assert data["reads"][clients][name]["p50_ms"] is not None
    (point,) = data["journal"]
    assert point["stored"] >= 1000
    assert point["rows_returned"] > 0
    assert point["orders_stored"] >= 1000  # the fills' orders: /v2's closed orders
    assert point["closed_orders_probe"]["errors"] == 0
    assert data["journal_sync"]["ok"] is True
    assert data["journal_sync"]["inserted"] == data["journal_sync"]["executions"]

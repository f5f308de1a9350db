"""`python -m bench --smoke` (`make bench-smoke`) runs end to end: the stack on
the simulator, every measurement with tiny counts, and a results file with
every figure and the full list of targets.  Timings are noisy, so whether a
target passes is not asserted here; `make bench` is where they are judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGET_NAMES = [
    "order_p50_vs_floors",
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
]

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


def test_smoke_run_writes_every_figure_and_target(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    env = dict(os.environ)
    # A throwaway SQLite file of its own (under var/bench/, removed after the
    # run), never the database of the test run.
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(output.read_text())

    assert data["mode"] == "smoke"
    assert [t["name"] for t in data["targets"]] == TARGET_NAMES
    for target in data["targets"]:
        assert set(target) >= {"name", "value", "target", "pass"}
        assert isinstance(target["pass"], bool)
    # Every measurement ran and answered (no failed requests in a quiet run).
    for delay in ("no_delay", "delay"):
        for clients in ("c1", "c8"):
            for path in ("api", "floor_a", "floor_b", "anchor"):
                sample = data["orders"][delay][clients][path]
                assert sample["p50_ms"] is not None, (delay, clients, path, sample)
                assert sample["errors"] == 0, (delay, clients, path, sample)
    assert data["sustained"]["acknowledged"] > 0
    assert data["sustained"]["pacing_errors"] is not None
    for clients in ("c1", "c16"):
        for name in ("account", "positions", "orders", "executions", "floor_b"):
            assert data["reads"][clients][name]["p50_ms"] is not None
    (point,) = data["journal"]
    assert point["stored"] >= 1000
    assert point["rows_returned"] > 0
    assert data["journal_sync"]["ok"] is True
    assert data["journal_sync"]["inserted"] == data["journal_sync"]["executions"]
    # PASS/FAIL lines for every target on the way.
    for name in TARGET_NAMES:
        assert f" {name}: " in done.stdout

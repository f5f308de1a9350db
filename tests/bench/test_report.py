"""The bench's report of both databases, without a stack: every target of
each database in one list, and docs/benchmarks.md's generated part showing
them side by side (a database whose run failed is there too, every target
not met)."""

from __future__ import annotations

from typing import Any

from bench import report


def _run(database: str, order_p50: float) -> dict[str, Any]:
    c1 = {
        "api": {"p50_ms": order_p50},
        "floor_a": {"p50_ms": 2.0},
        "floor_b": {"p50_ms": 3.0},
    }
    data: dict[str, Any] = {
        "database": database,
        "duration_s": 200.0,
        "machine": {"load_average_at_start": [0.1, 0.2, 0.3]},
        "stack": {"database": f"{database} 1.0", "redis": "redis://127.0.0.1:6379/15"},
        "plan": {"sustained_concurrency": 8},
        "orders": {"no_delay": {"delay_ms": 0, "c1": c1}},
        "journal_sync": {
            "executions": 100,
            "journal_size_before": 1000,
            "seconds": 0.1,
            "ms_per_execution": 1.0,
            "ok": True,
        },
    }
    data["targets"] = report.targets(data)
    return data


def test_every_target_of_each_database_is_judged_and_shown_side_by_side() -> None:
    runs = {
        "sqlite": _run("sqlite", 7.0),
        "postgres": _run("postgres", 8.0),
        "broken": {"database": "broken", "failed": True, "targets": []},
    }
    data: dict[str, Any] = {
        "started_at": "2026-12-03T08:00:00+00:00",
        "mode": "full",
        "duration_s": 400.0,
        "machine": {"nproc": 2, "cpu_model": "x", "memory_gb": 1, "python": "CPython 3.11"},
        "code": {},
        "databases": runs,
    }
    data["targets"] = report.all_targets(runs)

    names = [t["name"] for t in report.targets({})]
    assert [(t["database"], t["name"]) for t in data["targets"]] == [
        (database, name) for database in runs for name in names
    ]
    order = {t["database"]: t for t in data["targets"] if t["name"] == "order_p50_vs_floors"}
    assert (order["sqlite"]["value"], order["sqlite"]["pass"]) == (1.4, True)
    assert (order["postgres"]["value"], order["postgres"]["pass"]) == (1.6, False)
    assert order["broken"]["pass"] is False
    assert {t["target"] for t in order.values()} == {1.5}

    text = report.generated(data, chart=False)
    assert "| target | rule | SQLite | PostgreSQL | broken | figures |" in text
    assert "| `order_p50_vs_floors` | <= 1.5 | 1.4 PASS | **1.6 FAIL** | **– FAIL** |" in text
    for name in names:
        assert f"| `{name}` |" in text
    assert "### SQLite" in text
    assert "### PostgreSQL" in text
    assert "The broken run failed" in text

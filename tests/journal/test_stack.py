"""The journal end to end: the simulator fills orders, the gateway worker (a
real Celery worker, IB clientId 0) stores them in the test database, gunicorn
serves them, and `manage.py sync_executions` reconciles through the queue."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from journal.models import Execution, Order, SyncRun
from tests.stack import ROOT, Stack, eventually

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

SYNC_OK = re.compile(
    r"^sync (\d+): fetched (\d+) executions, inserted (\d+), updated (\d+), orders (\d+)$"
)


def unique_ref(label: str) -> str:
    return f"journal-{label}-{uuid.uuid4().hex[:10]}"


def market(api: Stack, symbol: str, action: str, quantity: int, order_ref: str) -> int:
    response = api.post(
        "/order/market",
        {"symbol": symbol, "action": action, "quantity": quantity, "order_ref": order_ref},
    )
    assert response.status_code == 200, response.text
    perm_id: int = response.json()["permId"]
    return perm_id


def stored_fill(order_ref: str, timeout: float = 10.0) -> Execution:
    """The journal's fill for an order, once its commission report is stored too."""
    row: Execution = eventually(
        lambda: Execution.objects.filter(order_ref=order_ref, commission__isnull=False).first(),
        timeout,
    )
    return row


def executions(api: Stack, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/executions", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["executions"]
    return rows


def sync_executions(api: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "sync_executions", "--timeout", "30"],
        cwd=ROOT,
        env=api.env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def synced(api: Stack) -> SyncRun:
    done = sync_executions(api)
    assert done.returncode == 0, done.stderr
    match = SYNC_OK.match(done.stdout.strip())
    assert match, done.stdout
    run = SyncRun.objects.get(pk=int(match[1]))
    assert (run.fetched, run.inserted, run.updated, run.orders) == tuple(
        int(n) for n in match.groups()[1:]
    )
    return run


def wait_connected(api: Stack, timeout: float = 30.0) -> None:
    eventually(lambda: api.get("/account").status_code == 200, timeout=timeout, interval=0.2)


def test_a_market_fill_is_journaled_with_its_commission_and_order(api: Stack) -> None:
    ref = unique_ref("fill")
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)

    perm_id = market(api, "AAPL", "BUY", 2, ref)

    row = stored_fill(ref)
    assert row.perm_id == perm_id
    assert (row.symbol, row.side, row.quantity) == ("AAPL", "BUY", Decimal("2"))
    # A market buy pays the ask.
    assert row.price == Decimal(str(api.sim.call("quote", symbol="AAPL")["ask"]))
    assert row.commission == Decimal("1.0")
    assert row.commission_currency == "USD"
    assert row.realized_pnl is None  # the simulator sends IB's "unset" for an opening fill
    assert row.client_id == 0
    assert row.exec_id.endswith(".01")
    assert row.revision == 1
    assert row.source in ("trades()", "reqExecutions")
    assert row.ib_time.endswith("US/Eastern")
    assert started - dt.timedelta(seconds=1) <= row.executed_at
    assert row.executed_at <= dt.datetime.now(dt.UTC)
    (sim_fill,) = [e for e in api.sim.call("executions") if e["exec_id"] == row.exec_id]
    assert dt.datetime.fromisoformat(sim_fill["when"]) == row.executed_at

    order = eventually(lambda: Order.objects.filter(perm_id=perm_id, status="Filled").first())
    assert order.order_ref == ref
    assert (order.symbol, order.action, order.order_type) == ("AAPL", "BUY", "MKT")
    assert order.quantity == Decimal("2")
    assert order.filled == Decimal("2")
    assert order.client_id == 0
    assert order.finished_at is not None
    assert order.status_history[-1][1] == "Filled"
    statuses = [status for _, status in order.status_history]
    assert len(statuses) == len(set(statuses))

    (api_row,) = executions(api, order_ref=ref)
    assert api_row["execId"] == row.exec_id
    assert api_row["commission"] == 1.0


def test_fills_outlive_a_gateway_restart(api: Stack) -> None:
    ref = unique_ref("restart")
    market(api, "MSFT", "BUY", 1, ref)
    row = stored_fill(ref)
    before = api.sim.call("counters")["connections_total"]
    restarted = dt.datetime.now(dt.UTC)

    api.sim.call("restart", downtime=1.0)

    eventually(lambda: api.sim.call("counters")["connections_total"] > before, timeout=20)
    wait_connected(api)
    # The gateway forgot the fill; the sync after the reconnect did not delete it.
    assert row.exec_id not in {e["exec_id"] for e in api.sim.call("executions")}
    eventually(
        lambda: SyncRun.objects.filter(
            trigger="connect", started_at__gte=restarted, finished_at__isnull=False
        ).first(),
        timeout=15,
    )
    (api_row,) = executions(api, order_ref=ref)
    assert api_row["execId"] == row.exec_id
    assert (api_row["symbol"], api_row["qty"], api_row["commission"]) == ("MSFT", 1, 1.0)
    assert Execution.objects.get(order_ref=ref).exec_id == row.exec_id


def test_a_manual_sync_twice_inserts_nothing_the_second_time(api: Stack) -> None:
    ref = unique_ref("sync")
    market(api, "AMD", "SELL", 3, ref)
    row = stored_fill(ref)

    first = synced(api)
    second = synced(api)

    for run in (first, second):
        assert run.ok
        assert run.trigger == "manual"
        assert run.error == ""
        assert run.fetched is not None
        assert run.fetched >= 1
        assert run.finished_at is not None
    assert second.inserted == 0
    assert second.updated == 0
    assert Execution.objects.filter(order_ref=ref).count() == 1
    assert Execution.objects.get(order_ref=ref).exec_id == row.exec_id
    sim_ids = {e["exec_id"] for e in api.sim.call("executions")}
    assert sim_ids <= set(Execution.objects.values_list("exec_id", flat=True))


def test_a_correction_replaces_the_stored_fill(api: Stack) -> None:
    ref = unique_ref("correct")
    market(api, "NVDA", "BUY", 1, ref)
    row = stored_fill(ref)
    new_price = float(row.price) - 1.25

    corrected_id = api.sim.call("correct_execution", exec_id=row.exec_id, price=new_price)

    assert corrected_id == f"{row.exec_stem}.02"

    def replaced() -> Execution | None:
        found = Execution.objects.filter(
            exec_stem=row.exec_stem, exec_id=corrected_id, commission__isnull=False
        ).first()
        return found if found and found.price == Decimal(str(new_price)) else None

    corrected = eventually(replaced)
    assert corrected.pk == row.pk
    assert corrected.revision == 2
    assert corrected.avg_price == Decimal(str(new_price))
    assert corrected.commission == Decimal("1.0")
    assert Execution.objects.filter(order_ref=ref).count() == 1

    def one_corrected_row() -> list[dict[str, Any]] | None:
        rows = executions(api, order_ref=ref)
        return rows if [r["execId"] for r in rows] == [corrected_id] else None

    (api_row,) = eventually(one_corrected_row)
    assert api_row["price"] == new_price
    # The gateway reports the corrected fill too: a sync leaves the one row as it is.
    synced(api)
    assert list(Execution.objects.filter(order_ref=ref).values_list("exec_id", "price")) == [
        (corrected_id, Decimal(str(new_price)))
    ]


def test_a_sync_while_the_gateway_is_down_is_recorded_as_failed(api: Stack) -> None:
    api.sim.call("refuse_connections", seconds=8)
    api.sim.call("drop_connections")
    try:
        eventually(lambda: api.get("/account").status_code == 503, timeout=5)

        done = sync_executions(api)
    finally:
        api.sim.call("refuse_connections", seconds=0.1)
        wait_connected(api)

    assert done.returncode != 0
    match = re.search(r"sync (\d+) failed: (.+)", done.stderr)
    assert match, done.stderr
    run = SyncRun.objects.get(pk=int(match[1]))
    assert run.ok is False
    assert run.fetched is None
    assert run.inserted == 0
    assert run.trigger == "manual"
    assert run.error == "ConnectionError: Failed to connect to IB Gateway"
    assert run.error in match[2]
    # Back up: the next sync succeeds.
    assert synced(api).ok


def test_executions_filters(api: Stack) -> None:
    ref, other = unique_ref("filter"), unique_ref("other")
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)).replace(microsecond=0)
    market(api, "QQQ", "BUY", 1, ref)
    time.sleep(1.1)  # fills are stamped to the second: keep them apart
    market(api, "QQQ", "BUY", 2, ref)
    market(api, "QQQ", "SELL", 3, ref)
    market(api, "QQQ", "BUY", 4, other)
    eventually(lambda: Execution.objects.filter(order_ref__in=[ref, other]).count() == 4)
    stamp = since.isoformat().replace("+00:00", "Z")

    buys = executions(api, side="BUY", order_ref=ref, since=stamp)
    assert [(r["side"], r["qty"], r["orderRef"]) for r in buys] == [
        ("BUY", 2, ref),
        ("BUY", 1, ref),
    ]
    (newest,) = executions(api, side="BUY", order_ref=ref, since=stamp, limit=1)
    assert newest == buys[0]
    (oldest,) = executions(api, side="BUY", order_ref=ref, since=stamp, limit=1, offset=1)
    assert oldest == buys[1]
    assert executions(api, side="BUY", order_ref=ref, limit=1, offset=2) == []
    (sell,) = executions(api, side="SELL", order_ref=ref)
    assert sell["qty"] == 3
    assert {r["qty"] for r in executions(api, order_ref=ref, symbol="qqq")} == {1, 2, 3}
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    assert executions(api, order_ref=ref, since=future) == []
    assert executions(api, order_ref=ref, until=stamp) == []
    assert executions(api, order_ref=ref, symbol="SPY") == []
    (theirs,) = executions(api, order_ref=other)
    assert theirs["qty"] == 4


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"since": "garbage"},
        {"until": "2024-13-45"},
        {"since": "2024-01-16T00:00:00Z", "until": "2024-01-15T00:00:00Z"},
        {"side": "HOLD"},
    ],
)
def test_bad_execution_filters_are_400_with_a_detail(api: Stack, params: dict[str, str]) -> None:
    response = api.get("/executions", params=params)

    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]

"""Faults under load, each on a stack of its own: the gateway killed mid-burst,
the worker killed mid-order, the gateway frozen, Redis restarted, a burst
against IB's pacing."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.db import connections

from journal.models import Execution
from tests.stack import Stack, database_url, eventually, free_port
from trading.models import OrderRequestLog

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def _db_url(django_db_blocker: Any) -> str:
    with django_db_blocker.unblock():
        return database_url(connections["default"].settings_dict)


@pytest.fixture
def own_stack(django_db_setup: object, django_db_blocker: Any, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        _db_url(django_db_blocker), sim_args=("--state-dir", str(tmp_path / "ibsim"))
    ).start()
    try:
        yield running
    finally:
        running.stop()


def _market(ref: str) -> dict[str, Any]:
    return {"symbol": "AAPL", "action": "BUY", "quantity": 1, "order_ref": ref}


def test_gateway_killed_mid_burst_places_nothing_twice_or_late(own_stack: Stack) -> None:
    refs = [f"burst-{uuid.uuid4().hex[:8]}" for _ in range(30)]
    answers: dict[str, requests.Response] = {}
    answered = threading.Semaphore(0)

    def post(ref: str) -> None:
        answers[ref] = own_stack.post("/order/market", _market(ref))
        answered.release()

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(post, ref) for ref in refs]
        for _ in range(8):
            answered.acquire(timeout=30)
        own_stack.restart_simulator()  # killed with SIGKILL, back on the same port
        for future in futures:
            future.result(timeout=60)

    placed = {ref: r.json()["permId"] for ref, r in answers.items() if r.status_code == 200}
    failed = [ref for ref, r in answers.items() if r.status_code != 200]
    assert len(placed) >= 8
    assert len(set(placed.values())) == len(placed)  # no permId answered twice
    for ref in failed:
        assert answers[ref].status_code in (503, 504), answers[ref].text
    # Nothing placed after its client was told it failed, nothing placed twice:
    eventually(lambda: own_stack.get("/health").status_code == 200, timeout=30)
    by_ref = own_stack.sim.call("counters")["orders_by_ref"]
    assert not [ref for ref in failed if by_ref.get(ref)]
    assert all(count == 1 for count in by_ref.values())
    # Every fill of an acknowledged market order is in the journal.
    eventually(
        lambda: (
            set(Execution.objects.filter(order_ref__in=placed).values_list("order_ref", flat=True))
            == set(placed)
        ),
        timeout=30,
    )


def test_worker_killed_mid_order_is_reconciled_not_repeated(own_stack: Stack) -> None:
    ref = f"killed-{uuid.uuid4().hex[:8]}"
    intents = f"ibkr:bus:{own_stack.env['GATEWAY_QUEUE']}:intents"  # trading.bus.intents_key()
    store = redis.Redis.from_url(own_stack.env["REDIS_URL"])
    assert own_stack.post("/order/market", _market(f"{ref}-warm")).status_code == 200  # AAPL known
    own_stack.sim.call("freeze", on=True)
    result: dict[str, requests.Response] = {}
    poster = threading.Thread(
        target=lambda: result.setdefault(
            "r",
            own_stack.post(
                "/order/limit",
                {
                    "symbol": "AAPL",
                    "action": "BUY",
                    "quantity": 1,
                    "limit_price": 200.0,
                    "order_ref": ref,
                },
            ),
        )
    )
    poster.start()
    eventually(lambda: store.hlen(intents), timeout=10)  # sent, not acknowledged

    own_stack.stop_process("worker", kill=True)
    own_stack.sim.call("freeze", on=False)  # the gateway now accepts the order
    poster.join(30)
    own_stack.start_worker()

    assert result["r"].status_code == 504
    log = OrderRequestLog.objects.get(body__order_ref=ref)
    eventually(lambda: OrderRequestLog.objects.get(pk=log.pk).state == "orphan_cancelled", 30)
    orders = [o for o in own_stack.sim.call("orders") if o["order_ref"] == ref]
    assert [o["status"] for o in orders] == ["Cancelled"]
    assert OrderRequestLog.objects.get(pk=log.pk).perm_ids == [orders[0]["perm_id"]]
    assert store.hlen(intents) == 0


def test_a_frozen_gateway_is_unavailable_until_it_answers_again(own_stack: Stack) -> None:
    """A gateway that stops answering with its socket open (IB Gateway hung, a
    half-open TCP link) is caught by the worker's probe: reads and orders 503
    instead of serving stale data or waiting out a timeout; nothing is sent;
    service resumes by itself once it answers."""
    ref = f"frozen-{uuid.uuid4().hex[:8]}"
    assert own_stack.get("/account").status_code == 200
    own_stack.sim.call("freeze", on=True)
    try:
        eventually(lambda: own_stack.get("/account").status_code == 503, timeout=15)
        health = own_stack.get("/health").json()
        assert health["status"] == "unavailable"
        assert health["gateway"]["connected"] is False
        assert "stopped answering" in health["gateway"]["last_error"]
        for path in ("/positions", "/orders"):
            assert own_stack.get(path).status_code == 503
        refused = own_stack.post(
            "/order/limit",
            {
                "symbol": "AAPL",
                "action": "BUY",
                "quantity": 1,
                "limit_price": 200.0,
                "order_ref": ref,
            },
        )
        assert refused.status_code == 503, refused.text
    finally:
        own_stack.sim.call("freeze", on=False)

    eventually(lambda: own_stack.get("/account").status_code == 200, timeout=15)
    assert own_stack.get("/health").json()["gateway"]["last_error"] == ""
    assert own_stack.sim.call("counters")["orders_by_ref"].get(ref) is None  # never sent
    after = own_stack.post("/order/market", _market(f"{ref}-after"))
    assert after.status_code == 200, after.text


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A private redis-server that the test may restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed for the Redis restart test")
    port = free_port()
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(tmp_path),
    ]
    procs = [subprocess.Popen(args, stdout=subprocess.DEVNULL)]

    def restart() -> None:
        procs[0].kill()
        procs[0].wait(5)
        time.sleep(1.0)
        procs[0] = subprocess.Popen(args, stdout=subprocess.DEVNULL)

    url = f"redis://127.0.0.1:{port}/0"
    eventually(lambda: _pings(url), timeout=10)
    try:
        yield url, restart
    finally:
        procs[0].kill()
        procs[0].wait(5)


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def test_redis_restart_under_load_recovers_and_loses_no_accepted_order(
    django_db_setup: object, django_db_blocker: Any, redis_server: tuple[str, Any]
) -> None:
    url, restart = redis_server
    stack = Stack(_db_url(django_db_blocker), REDIS_URL=url).start(supervised=True)
    try:
        answers: dict[str, int] = {}

        def post(ref: str) -> None:
            try:
                answers[ref] = stack.post("/order/market", _market(ref)).status_code
            except requests.RequestException:
                answers[ref] = 0

        refs = [f"redis-{uuid.uuid4().hex[:8]}" for _ in range(20)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(post, ref) for ref in refs[:10]]
            time.sleep(0.3)
            restart()
            futures += [pool.submit(post, ref) for ref in refs[10:]]
            for future in futures:
                future.result(timeout=60)

        eventually(lambda: stack.get("/account").status_code == 200, timeout=60, interval=0.5)
        after = stack.post("/order/market", _market("redis-after"))
        assert after.status_code == 200
        by_ref = stack.sim.call("counters")["orders_by_ref"]
        accepted = [ref for ref, status in answers.items() if status == 200]
        assert all(by_ref.get(ref) == 1 for ref in accepted)
        odd = {ref: s for ref, s in answers.items() if s not in (200, 503, 504)}
        assert not odd, odd
    finally:
        stack.stop()


def test_a_burst_of_orders_never_trips_ibs_pacing(own_stack: Stack) -> None:
    ref = f"pace-{uuid.uuid4().hex[:6]}"

    def post(index: int) -> int:
        body = {"symbol": "MSFT", "action": "BUY", "quantity": 1, "limit_price": 300.0}
        return own_stack.post("/order/limit", {**body, "order_ref": f"{ref}-{index}"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, range(120)))

    assert statuses == [200] * 120
    counters = own_stack.sim.call("counters")
    assert counters["pacing_errors"] == 0
    assert max(counters["peak_messages_per_second"].values()) <= 50

"""The web process and the database fail: a web process killed mid-order, and
a web process whose database is unreachable (README, failure modes)."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connections

from tests.stack import Stack, database_url, eventually
from trading.models import OrderRequestLog

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

ACK_TIMEOUT = 3  # seconds; the answer to an order is due within ACK_TIMEOUT + 5


@pytest.fixture
def own_stack(django_db_setup: object, django_db_blocker: Any, tmp_path: Path) -> Iterator[Stack]:
    with django_db_blocker.unblock():
        db_url = database_url(connections["default"].settings_dict)
    running = Stack(
        db_url,
        sim_args=("--state-dir", str(tmp_path / "ibsim")),
        ORDER_ACK_TIMEOUT=str(ACK_TIMEOUT),
    ).start()
    try:
        yield running
    finally:
        running.stop()


def test_web_killed_mid_order_places_it_once_and_a_retry_is_told_to_check(
    own_stack: Stack,
) -> None:
    """kill -9 of the web process while the worker places an order: the client's
    connection drops; the order is placed once, listed in /orders; a retry with
    the same Idempotency-Key places nothing and says to check the orders."""
    ref = f"webkill-{uuid.uuid4().hex[:8]}"
    body = {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 200.0,
            "order_ref": ref}  # fmt: skip
    key = {"Idempotency-Key": f"key-{ref}"}
    own_stack.sim.call("set_delay", ms=1500)  # IB takes its time to acknowledge
    dropped: list[BaseException] = []

    def post() -> None:
        try:
            own_stack.post("/order/limit", body, headers=key)
        except requests.RequestException as exc:
            dropped.append(exc)

    poster = threading.Thread(target=post)
    poster.start()
    eventually(lambda: OrderRequestLog.objects.filter(body__order_ref=ref).exists(), timeout=10)
    # SIGKILL to gunicorn's workers (the one serving the request among them) and
    # its master: nothing of the web process gets to finish the request.
    master = own_stack.procs["web"].pid
    subprocess.run(["pkill", "-KILL", "-P", str(master)], check=True)
    own_stack.stop_process("web", kill=True)
    poster.join(30)
    assert len(dropped) == 1  # the client saw its connection drop, no answer

    own_stack.sim.call("set_delay", ms=0)
    own_stack.start_web()
    own_stack.wait_ready()
    eventually(lambda: own_stack.sim.call("counters")["orders_by_ref"].get(ref) == 1, timeout=15)
    listed = eventually(
        lambda: [o for o in own_stack.get("/orders").json()["orders"] if o["orderRef"] == ref],
        timeout=15,
    )
    assert len(listed) == 1

    retry = own_stack.post("/order/limit", body, headers=key)
    assert retry.status_code == 409, retry.text
    assert "GET /orders" in retry.json()["detail"]
    assert own_stack.sim.call("counters")["orders_by_ref"][ref] == 1  # nothing placed twice
    # The request's audit row keeps the state it had when the web died.
    assert OrderRequestLog.objects.get(body__order_ref=ref).state == "queued"


def test_database_down_answers_503_and_sends_nothing(stack: Stack) -> None:
    """A web process whose database is unreachable: everything that needs the
    database (tokens, the journal, the audit row written before an order is
    queued) is a 503 to retry, never a 500, and no order reaches IB."""
    down = "postgres://postgres@127.0.0.1:9/test?connect_timeout=2"
    base = stack.start_extra_web("web-nodb", DATABASE_URL=down)
    ref = f"nodb-{uuid.uuid4().hex[:8]}"
    try:
        account = requests.get(f"{base}/account", timeout=30)  # the mirror, in Redis
        executions = requests.get(f"{base}/executions", timeout=30)
        order = requests.post(
            f"{base}/order/limit",
            json={
                "symbol": "AAPL",
                "action": "BUY",
                "quantity": 1,
                "limit_price": 200.0,
                "order_ref": ref,
            },
            timeout=30,
        )
        health = requests.get(f"{base}/health", timeout=30)
    finally:
        stack.stop_process("web-nodb")

    for response in (executions, order):
        assert response.status_code == 503, response.text
        assert response.json() == {
            "detail": "The service's database is unreachable; try again shortly"
        }
    assert account.status_code == 200  # the demo's anonymous reads need no database
    assert health.status_code == 503
    assert health.json()["database"] is False
    assert stack.sim.call("counters")["orders_by_ref"].get(ref) is None

"""The gateway goes away: answers are a quick, clear 503, and the worker
reconnects by itself when it is back."""

from __future__ import annotations

import time

import pytest

from tests.stack import Stack, eventually

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

UNAVAILABLE = {"detail": "Failed to connect to IB Gateway"}


def test_gateway_crash_gives_quick_503s_then_recovers(api: Stack) -> None:
    api.sim.call("refuse_connections", seconds=4)
    api.sim.call("drop_connections")

    def down() -> bool:
        return api.get("/account").status_code == 503

    eventually(down, timeout=3)
    for path in ("/account", "/positions", "/orders"):
        started = time.monotonic()
        response = api.get(path)
        assert (response.status_code, response.json()) == (503, UNAVAILABLE)
        assert time.monotonic() - started < 2
    health = api.get("/health")
    assert health.status_code == 503
    assert health.json()["gateway"]["connected"] is False
    assert health.json()["status"] == "unavailable"
    # History comes from the journal: it does not need the gateway.
    assert api.get("/executions").status_code == 200
    started = time.monotonic()
    order = api.post("/order/market", {"symbol": "AAPL", "action": "BUY", "quantity": 1})
    assert (order.status_code, order.json()) == (503, UNAVAILABLE)
    assert time.monotonic() - started < 2

    eventually(lambda: api.get("/account").status_code == 200, timeout=20)
    placed = api.post("/order/limit", {**_limit(), "order_ref": "after-reconnect"})
    assert placed.status_code == 200


def test_gateway_restart_keeps_gtc_state_and_orders_work_again(api: Stack) -> None:
    before = api.sim.call("counters")["connections_total"]

    api.sim.call("restart", downtime=1.0)

    eventually(lambda: api.sim.call("counters")["connections_total"] > before, timeout=20)
    eventually(lambda: api.get("/orders").status_code == 200, timeout=20)
    response = api.post("/order/market", {"symbol": "QQQ", "action": "BUY", "quantity": 1})
    assert response.status_code == 200


def test_slow_gateway_answers_504_and_leaves_no_order(api: Stack) -> None:
    api.sim.call("freeze", on=True)
    try:
        response = api.post("/order/limit", {**_limit(), "order_ref": "frozen"})
    finally:
        api.sim.call("freeze", on=False)

    assert response.status_code == 504
    # The worker cancels what it could not get acknowledged: nothing keeps working.
    eventually(
        lambda: all(
            o["status"] in ("Cancelled", "Filled")
            for o in api.sim.call("orders")
            if o["order_ref"] == "frozen"
        )
    )
    # The freeze may have been long enough for the worker's probe to find the
    # gateway unresponsive (503 until it answers again): read once it is back.
    read = eventually(lambda: (r := api.get("/orders")).status_code == 200 and r, timeout=20)
    assert not [o for o in read.json()["orders"] if o["orderRef"] == "frozen"]


def _limit() -> dict[str, object]:
    return {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 200.0}

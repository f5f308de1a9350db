"""Safe to point at a real account: tokens and scopes, protected mode, the
kill switch, pre-trade limits, the audit trail, live-trading refusal, deploy
checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.db import connections

from tests.stack import ROOT, Stack, database_url, eventually, free_port
from trading.models import OrderRequestLog, TradingControl

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

LIMIT: dict[str, Any] = {"symbol": "AAPL", "action": "BUY", "quantity": 1, "limit_price": 200.0}


def create_token(stack: Stack, scope: str) -> str:
    name = f"{scope}-{uuid.uuid4().hex[:6]}"
    out = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", "--name", name, "--scope", scope],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def secured(stack: Stack) -> str:
    """A web server of the same stack with authentication required."""
    return stack.start_extra_web("web-secured", IBKR_LOCAL_DEMO="0")


def test_no_token_is_401_and_health_stays_open(api: Stack, secured: str) -> None:
    response = requests.get(f"{secured}/account", timeout=10)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(f"{secured}/health", timeout=10).status_code == 200
    bad = requests.get(f"{secured}/account", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid or revoked token."})


def test_read_token_reads_but_cannot_trade(api: Stack, secured: str) -> None:
    headers = {"Authorization": f"Bearer {create_token(api, 'read')}"}

    assert requests.get(f"{secured}/orders", headers=headers, timeout=10).status_code == 200
    placed = requests.post(f"{secured}/order/limit", json=LIMIT, headers=headers, timeout=10)
    cancel = requests.post(
        f"{secured}/order/cancel", json={"perm_id": 1}, headers=headers, timeout=10
    )

    assert placed.status_code == cancel.status_code == 403
    assert "needs a 'trade' token" in placed.json()["detail"]


def test_trade_token_places_and_the_audit_trail_records_it(api: Stack, secured: str) -> None:
    headers = {"Authorization": f"Bearer {create_token(api, 'trade')}"}
    ref = f"audit-{uuid.uuid4().hex[:6]}"

    response = requests.post(
        f"{secured}/order/limit", json={**LIMIT, "order_ref": ref}, headers=headers, timeout=30
    )

    assert response.status_code == 200
    log = eventually(
        lambda: OrderRequestLog.objects.filter(body__order_ref=ref, state="done").first()
    )
    assert log.client.startswith("trade-")
    assert (log.state, log.http_status) == ("done", 200)
    assert log.perm_ids == [response.json()["permId"]]
    assert log.latency_ms is not None
    assert log.answered_at is not None


def test_the_demo_refuses_to_serve_anonymously_off_loopback(stack: Stack) -> None:
    port = free_port()
    env = {**stack.env, "IBKR_LOCAL_DEMO": "1", "WEB_BIND": f"0.0.0.0:{port}"}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "ibkr_project.wsgi", "-b", f"0.0.0.0:{port}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "only allowed on a loopback address" in result.stderr


def test_kill_switch_refuses_orders_but_not_cancels(api: Stack) -> None:
    perm_id = api.post("/order/limit", LIMIT).json()["permId"]
    control = TradingControl.objects.create(halted=True, reason="risk review")
    try:
        refused = api.post("/order/limit", LIMIT)
        cancelled = api.post("/order/cancel", {"perm_id": perm_id})
    finally:
        control.delete()

    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Trading is halted (kill switch): risk review.")
    assert cancelled.status_code == 200
    assert api.post("/order/limit", LIMIT).status_code == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({**LIMIT, "quantity": 20_000}, "exceeds the maximum of 10000 shares"),
        ({**LIMIT, "quantity": 9_000, "limit_price": 200.0}, "Notional 1,800,000.00 exceeds"),
    ],
)
def test_pre_trade_limits(api: Stack, body: dict[str, object], detail: str) -> None:
    before = api.sim.call("counters")["place_messages"]

    response = api.post("/order/limit", body)

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert api.sim.call("counters")["place_messages"] == before
    assert OrderRequestLog.objects.filter(state="refused", body__quantity=body["quantity"]).exists()


@pytest.fixture(scope="module")
def live_stack(django_db_setup: object, django_db_blocker: object) -> Iterator[Stack]:
    """The service on a simulator that manages a live (non-DU) account."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        url = database_url(connections["default"].settings_dict)
    running = Stack(url, sim_args=("--account", "U7654321")).start()
    try:
        yield running
    finally:
        running.stop()


def test_live_account_without_live_trading_refuses_every_order(live_stack: Stack) -> None:
    before = live_stack.sim.call("counters")["place_messages"]

    response = live_stack.post("/order/market", {"symbol": "AAPL", "action": "BUY", "quantity": 1})

    assert response.status_code == 403
    assert "LIVE_TRADING is off" in response.json()["detail"]
    assert live_stack.sim.call("counters")["place_messages"] == before
    health = eventually(lambda: live_stack.get("/health").json()["gateway"]["mode_mismatch"])
    assert health is True
    assert live_stack.get("/health").status_code == 503


def test_production_settings_pass_check_deploy() -> None:
    env = {
        **os.environ,
        "DJANGO_SECURE": "1",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""Safe to point at a real account: tokens and scopes, protected mode, the
kill switch, pre-trade limits, the audit trail, live-trading refusal, deploy
checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
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


PROTECTED = [
    ("GET", "/account", None),
    ("GET", "/positions", None),
    ("GET", "/orders", None),
    ("GET", "/executions", None),
    ("POST", "/order/limit", LIMIT),
    ("POST", "/order/market", {"symbol": "AAPL", "action": "BUY", "quantity": 1}),
    ("POST", "/order/stop", {"symbol": "AAPL", "action": "SELL", "quantity": 1, "stop_price": 1}),
    (
        "POST",
        "/order/bracket",
        {
            "symbol": "AAPL",
            "action": "BUY",
            "quantity": 1,
            "entry_price": 200.0,
            "stop_loss": 190.0,
            "take_profit": 210.0,
        },
    ),
    ("POST", "/order/cancel", {"perm_id": 1}),
]


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED, ids=[p for _, p, _ in PROTECTED])
def test_every_endpoint_but_health_and_docs_needs_a_token(
    api: Stack, secured: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    before = api.sim.call("counters")["place_messages"]

    response = requests.request(method, f"{secured}{path}", json=body, timeout=10)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.sim.call("counters")["place_messages"] == before


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


def test_a_market_order_is_held_to_the_notional_limit_at_the_quoted_price(api: Stack) -> None:
    """Regression: market orders skipped MAX_ORDER_NOTIONAL (they carry no
    price). The worker checks them against IB's ask (buy) or bid (sell)."""
    before = api.sim.call("counters")["place_messages"]
    body = {"symbol": "AAPL", "action": "BUY", "quantity": 9_000, "order_ref": "mkt-notional"}

    response = api.post("/order/market", body)

    assert response.status_code == 400
    assert "exceeds the maximum of 1,000,000.00 per order" in response.json()["detail"]
    assert api.sim.call("counters")["place_messages"] == before
    row = eventually(
        lambda: OrderRequestLog.objects.filter(
            body__order_ref="mkt-notional", state="limit_exceeded"
        ).first()
    )
    assert row.http_status == 400


@pytest.mark.parametrize(
    ("settings", "refused", "allowed"),
    [
        ({"SYMBOL_DENYLIST": "TSLA", "SYMBOL_ALLOWLIST": ""}, "TSLA", "AAPL"),
        ({"SYMBOL_ALLOWLIST": "AAPL,MSFT", "SYMBOL_DENYLIST": ""}, "TSLA", "MSFT"),
    ],
    ids=["denylist", "allowlist"],
)
def test_symbol_lists_refuse_before_anything_is_sent(
    api: Stack, settings: dict[str, str], refused: str, allowed: str
) -> None:
    name = f"web-{refused.lower()}-{allowed.lower()}"
    base = api.start_extra_web(name, **settings)
    before = api.sim.call("counters")["place_messages"]
    order = {**LIMIT, "limit_price": 100.0}
    try:
        denied = requests.post(f"{base}/order/limit", json={**order, "symbol": refused}, timeout=30)
        passed = requests.post(f"{base}/order/limit", json={**order, "symbol": allowed}, timeout=30)
    finally:
        api.stop_process(name)

    assert denied.status_code == 400
    assert refused in denied.json()["detail"]
    assert passed.status_code == 200
    assert api.sim.call("counters")["place_messages"] == before + 1


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
    token = create_token(live_stack, "trade")

    response = live_stack.post(
        "/order/market",
        {"symbol": "AAPL", "action": "BUY", "quantity": 1},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 403
    assert "LIVE_TRADING is off" in response.json()["detail"]
    assert live_stack.sim.call("counters")["place_messages"] == before
    health = eventually(lambda: live_stack.get("/health").json()["gateway"]["mode_mismatch"])
    assert health is True
    assert live_stack.get("/health").status_code == 503


def test_a_live_order_needs_live_trading_on_and_a_live_token(
    django_db_setup: object, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        url = database_url(connections["default"].settings_dict)
    stack = Stack(url, sim_args=("--account", "U7654321"), LIVE_TRADING="1").start()
    order = {**LIMIT, "limit_price": 100.0}

    def place(scope: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {create_token(stack, scope)}"}
        return stack.post("/order/limit", order, headers=headers)

    try:
        before = stack.sim.call("counters")["place_messages"]
        anonymous = stack.post("/order/limit", order)
        with_trade = place("trade")
        with_live = place("live")
        placed = stack.sim.call("counters")["place_messages"] - before
    finally:
        stack.stop()

    assert anonymous.status_code == with_trade.status_code == 403
    assert "only a token with the 'live' scope" in with_trade.json()["detail"]
    assert with_live.status_code == 200, with_live.text
    assert placed == 1


def test_the_worker_refuses_a_live_order_on_its_own(live_stack: Stack) -> None:
    """A request that reached the worker past the web's checks (another web
    process, configured otherwise) is refused there too, with the same 403."""
    from django.test import override_settings

    from trading import bus
    from trading.exceptions import outcome_error

    before = live_stack.sim.call("counters")["place_messages"]
    args: dict[str, object] = {
        "kind": "limit",
        "data": {**LIMIT, "limit_price": 100.0},
        "request_id": None,
    }

    with override_settings(GATEWAY_QUEUE=live_stack.env["GATEWAY_QUEUE"]):
        outcome = bus.call("place", args, deadline=time.time() + 5, timeout=7)

    assert (outcome["ok"], outcome["kind"]) == (False, "live_refused")
    assert outcome_error(outcome).status_code == 403
    assert live_stack.sim.call("counters")["place_messages"] == before


@pytest.mark.parametrize("port", [4001, 7496])
def test_a_live_port_makes_a_paper_account_live(port: int) -> None:
    from trading.risk import trading_mode

    assert trading_mode({"port": port, "account": "DU1234567"}) == "live"


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


def test_anonymous_reads_of_a_live_account_are_refused_even_in_the_demo(live_stack: Stack) -> None:
    token = create_token(live_stack, "read")

    anonymous = live_stack.get("/account")
    with_token = live_stack.get("/account", headers={"Authorization": f"Bearer {token}"})

    assert anonymous.status_code == 403
    assert "live account: anonymous access is refused" in anonymous.json()["detail"]
    assert with_token.status_code == 200

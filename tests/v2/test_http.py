"""/v2 over raw HTTP against the real stack: authentication with Alpaca's
headers and the bearer token, and every error in Alpaca's shape
(``{"code", "message"}``) with Alpaca's status, while the root keeps
``{"detail"}``; client_order_id uniqueness under concurrency; what Alpaca
or IB does not take refused by name with nothing sent to the simulator."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest
import requests

from journal.models import Order
from tests.stack import ROOT, Stack, eventually
from tests.v2.conftest import Key
from trading.models import ApiToken, OrderRequestLog, TradingControl
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

LIMIT: dict[str, Any] = {
    "symbol": "AAPL",
    "qty": "1",
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "limit_price": "200.00",
}


def alpaca_error(response: requests.Response, status: int) -> str:
    """The message of an error answered in Alpaca's shape with ``status``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == status * 100_000 + 10_000
    message: str = body["message"]
    return message


def sim_orders(api: Stack, order_ref: str) -> list[dict[str, Any]]:
    return [o for o in api.sim.call("orders") if o["order_ref"] == order_ref]


def cancel(api: Stack, order_id: str, key: Key) -> None:
    api_delete = requests.delete(api.url(f"/v2/orders/{order_id}"), headers=key.headers, timeout=30)
    assert api_delete.status_code == 204, api_delete.text


# --- authentication ----------------------------------------------------------------


def test_without_credentials_401_in_alpacas_shape_and_the_root_keeps_detail(
    api: Stack, secured: str
) -> None:
    v2 = requests.get(f"{secured}/v2/account", timeout=10)
    root = requests.get(f"{secured}/account", timeout=10)

    assert alpaca_error(v2, 401) == "Authentication credentials were not provided."
    assert v2.headers["WWW-Authenticate"].startswith("Bearer")
    assert (root.status_code, root.json()) == (
        401,
        {"detail": "Authentication credentials were not provided."},
    )


def test_alpacas_key_headers_and_the_bearer_token_both_authenticate(
    api: Stack, secured: str, read_key: Key
) -> None:
    by_keys = requests.get(f"{secured}/v2/account", headers=read_key.headers, timeout=10)
    bearer = {"Authorization": f"Bearer {read_key.secret}"}
    by_bearer = requests.get(f"{secured}/v2/account", headers=bearer, timeout=10)

    assert by_keys.status_code == by_bearer.status_code == 200
    assert by_keys.json()["account_number"] == by_bearer.json()["account_number"]
    assert ApiToken.objects.get(pk=read_key.token.pk).last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda a, b: {**a.headers, "APCA-API-SECRET-KEY": "ibkr_wrong"}, id="secret"),
        pytest.param(
            lambda a, b: {**a.headers, "APCA-API-KEY-ID": b.token.key_id}, id="another-key-id"
        ),
        pytest.param(lambda a, b: {"APCA-API-KEY-ID": a.token.key_id}, id="key-id-alone"),
        pytest.param(lambda a, b: {"APCA-API-SECRET-KEY": a.secret}, id="secret-alone"),
    ],
)
def test_a_wrong_or_mixed_key_pair_is_401(
    api: Stack, secured: str, read_key: Key, trade_key: Key, headers: Any
) -> None:
    response = requests.get(
        f"{secured}/v2/account", headers=headers(read_key, trade_key), timeout=10
    )

    alpaca_error(response, 401)


def test_the_local_demo_serves_anonymous_requests_as_at_the_root(api: Stack) -> None:
    """The stack runs the local demo (IBKR_LOCAL_DEMO=1) on loopback, as make run does."""
    account = api.get("/v2/account")
    placed = api.post("/v2/orders", LIMIT)

    assert account.status_code == 200, account.text
    assert placed.status_code == 200, placed.text
    log = OrderRequestLog.objects.get(body__order_ref=placed.json()["client_order_id"])
    assert log.client == "anonymous (local demo)"
    assert (
        requests.delete(api.url(f"/v2/orders/{placed.json()['id']}"), timeout=30).status_code == 204
    )


def test_an_order_takes_the_roots_path_audited_with_its_client_order_id(
    api: Stack, trade_key: Key
) -> None:
    body = {**LIMIT, "client_order_id": f"v2-audit-{uuid.uuid4().hex[:8]}"}

    placed = api.post("/v2/orders", body, headers=trade_key.headers)

    assert placed.status_code == 200, placed.text
    log = OrderRequestLog.objects.get(body__order_ref=body["client_order_id"])
    assert (log.endpoint, log.client) == ("order/limit", trade_key.token.name)
    assert log.body == {
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 1.0,
        "order_ref": body["client_order_id"],
        "tif": "DAY",
        "limit_price": 200.0,
    }
    perm_id = ids.perm_id_of(uuid.UUID(placed.json()["id"]))
    # The outcome is written off the answer's path (trading.audit).
    eventually(lambda: OrderRequestLog.objects.get(pk=log.pk).perm_ids == [perm_id])
    cancel(api, placed.json()["id"], trade_key)


def test_create_api_token_prints_the_two_alpaca_lines(api: Stack) -> None:
    name = f"v2-cli-{uuid.uuid4().hex[:6]}"
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", "--name", name, "--scope", "read"],
        cwd=ROOT,
        env=api.env,
        capture_output=True,
        text=True,
        check=True,
    )

    token = ApiToken.objects.get(name=name)
    raw = done.stdout.strip()  # stdout: the token alone, as before
    lines = done.stderr.splitlines()
    assert f"APCA-API-KEY-ID={token.key_id}" in lines
    assert f"APCA-API-SECRET-KEY={raw}" in lines
    key = {"APCA-API-KEY-ID": token.key_id, "APCA-API-SECRET-KEY": raw}
    assert api.get("/v2/account", headers=key).status_code == 200


# --- refusals -------------------------------------------------------------------------


def test_a_read_key_reads_but_may_not_trade(api: Stack, read_key: Key) -> None:
    response = api.post("/v2/orders", LIMIT, headers=read_key.headers)

    assert api.get("/v2/orders", headers=read_key.headers).status_code == 200
    assert alpaca_error(response, 403).startswith("This token may only read")


def test_the_kill_switch_refuses_orders_403_and_cancels_still_work(
    api: Stack, trade_key: Key
) -> None:
    placed = api.post("/v2/orders", LIMIT, headers=trade_key.headers).json()
    control = TradingControl.objects.create(halted=True, reason="risk review")
    try:
        refused = api.post("/v2/orders", LIMIT, headers=trade_key.headers)
        blocked = api.get("/v2/account", headers=trade_key.headers).json()["trading_blocked"]
        cancel(api, placed["id"], trade_key)
    finally:
        control.delete()

    assert alpaca_error(refused, 403).startswith("Trading is halted (kill switch): risk review.")
    assert blocked is True


def test_a_pre_trade_limit_is_403(api: Stack, trade_key: Key) -> None:
    response = api.post("/v2/orders", {**LIMIT, "qty": 20_000}, headers=trade_key.headers)

    assert "exceeds the maximum of 10000 shares" in alpaca_error(response, 403)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"/v2/orders/{uuid.uuid4()}", "order not found"),  # not an id of ours
        (f"/v2/orders/{ids.order_uuid(987654321)}", "order not found"),  # no such permId
        ("/v2/orders/not-a-uuid", "order not found"),
        ("/v2/orders:by_client_order_id?client_order_id=nobody-has-this", "order not found"),
        ("/v2/positions/NOPE", "position does not exist"),
        ("/v2/no/such/endpoint", "Not found."),
    ],
)
def test_what_does_not_exist_is_404(api: Stack, trade_key: Key, path: str, message: str) -> None:
    assert alpaca_error(api.get(path, headers=trade_key.headers), 404) == message


def test_cancelling_an_unknown_order_is_404(api: Stack, trade_key: Key) -> None:
    response = requests.delete(
        api.url(f"/v2/orders/{ids.order_uuid(987654321)}"), headers=trade_key.headers, timeout=30
    )

    assert alpaca_error(response, 404) == "Order not found or already filled"


def test_patching_the_configuration_is_403_ib_has_no_such_settings(
    api: Stack, trade_key: Key
) -> None:
    response = requests.patch(
        api.url("/v2/account/configurations"),
        json={"no_shorting": True},
        headers=trade_key.headers,
        timeout=10,
    )

    assert alpaca_error(response, 403).startswith("IB has no such settings")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({k: v for k, v in LIMIT.items() if k != "qty"}, "qty: This field is required."),
        ({**LIMIT, "side": "BUY"}, 'side: "BUY" is not a valid choice.'),
        ({**LIMIT, "limit_price": "230.001"}, "limit_price: Must be a price above 0"),
        ({**LIMIT, "colour": "red"}, "colour: Unknown field."),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    api: Stack, trade_key: Key, body: dict[str, Any], message: str
) -> None:
    response = api.post("/v2/orders", body, headers=trade_key.headers)

    assert alpaca_error(response, 422).startswith(message)


def test_a_query_that_is_invalid_is_422(api: Stack, trade_key: Key) -> None:
    response = api.get("/v2/orders?status=pending&limit=501", headers=trade_key.headers)

    message = alpaca_error(response, 422)
    assert "status:" in message
    assert "limit:" in message


def test_a_body_that_is_not_json_is_400(api: Stack, trade_key: Key) -> None:
    response = requests.post(
        api.url("/v2/orders"),
        data="{not json",
        headers={**trade_key.headers, "Content-Type": "application/json"},
        timeout=10,
    )

    assert alpaca_error(response, 400).startswith("JSON parse error")


UNSUPPORTED = [
    (
        {"type": "stop", "limit_price": None, "stop_price": "300", "time_in_force": "cls"},
        "time_in_force cls is not accepted for a stop order",
    ),
    (
        {"time_in_force": "gtc", "extended_hours": True},
        "extended_hours: true only with time_in_force day",
    ),
    ({"order_class": "mleg"}, "order_class mleg is not accepted"),
    ({"notional": "500"}, "notional: notional orders are not supported"),
    ({"qty": "1.5"}, "qty: fractional qty is not supported"),
    ({"qty": 0.5}, "qty: fractional qty is not supported"),
]


@pytest.mark.parametrize(("change", "named"), UNSUPPORTED)
def test_what_alpaca_or_ib_does_not_take_is_422_by_name_and_nothing_is_sent(
    api: Stack, trade_key: Key, change: dict[str, Any], named: str
) -> None:
    client_order_id = f"v2-unsupported-{uuid.uuid4().hex[:8]}"
    body = {**LIMIT, **change, "client_order_id": client_order_id}
    body = {name: value for name, value in body.items() if value is not None}
    if "notional" in change:
        del body["qty"]

    response = api.post("/v2/orders", body, headers=trade_key.headers)

    message = alpaca_error(response, 422)
    assert named in message, message
    assert sim_orders(api, client_order_id) == []


def test_a_duplicate_client_order_id_is_422_and_places_nothing(api: Stack, trade_key: Key) -> None:
    body = {**LIMIT, "client_order_id": f"v2-dup-{uuid.uuid4().hex[:8]}"}
    first = api.post("/v2/orders", body, headers=trade_key.headers)

    again = api.post("/v2/orders", body, headers=trade_key.headers)

    assert first.status_code == 200, first.text
    assert alpaca_error(again, 422) == "client_order_id must be unique"
    assert len(sim_orders(api, body["client_order_id"])) == 1
    cancel(api, first.json()["id"], trade_key)


def test_concurrent_duplicates_of_a_client_order_id_place_one_order(
    api: Stack, trade_key: Key
) -> None:
    body = {**LIMIT, "client_order_id": f"v2-race-{uuid.uuid4().hex[:8]}"}
    answers: list[requests.Response] = []
    start = threading.Barrier(6)

    def post() -> None:
        start.wait()
        answers.append(api.post("/v2/orders", body, headers=trade_key.headers))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 422, 422, 422, 422, 422], [a.text for a in answers]
    assert len(sim_orders(api, body["client_order_id"])) == 1
    placed = next(a for a in answers if a.status_code == 200).json()
    cancel(api, placed["id"], trade_key)


def test_an_ib_rejection_is_422_and_frees_the_client_order_id(api: Stack, trade_key: Key) -> None:
    client_order_id = f"v2-rejected-{uuid.uuid4().hex[:8]}"
    body = {**LIMIT, "client_order_id": client_order_id}
    api.sim.call("reject_next_order", reason="Simulated rejection")

    rejected = api.post("/v2/orders", body, headers=trade_key.headers)
    retried = api.post("/v2/orders", body, headers=trade_key.headers)

    assert "Simulated rejection" in alpaca_error(rejected, 422)
    assert retried.status_code == 200, retried.text
    assert retried.json()["client_order_id"] == client_order_id
    cancel(api, retried.json()["id"], trade_key)


def test_an_idempotency_key_replays_the_first_answer_on_v2(api: Stack, trade_key: Key) -> None:
    headers = {**trade_key.headers, "Idempotency-Key": f"v2-key-{uuid.uuid4().hex}"}

    first = api.post("/v2/orders", LIMIT, headers=headers)
    again = api.post("/v2/orders", LIMIT, headers=headers)
    other = api.post("/v2/orders", {**LIMIT, "qty": "2"}, headers=headers)

    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(sim_orders(api, first.json()["client_order_id"])) == 1
    assert alpaca_error(other, 409).startswith("This Idempotency-Key was used")
    cancel(api, first.json()["id"], trade_key)


def test_an_order_that_filled_is_found_before_the_journal_stores_it(
    api: Stack, trade_key: Key
) -> None:
    """A market order fills at once and leaves the working orders; until the
    journal's writer has stored its end (milliseconds, or the next sync's
    minutes if a write failed) the mirror's just-finished orders answer."""
    body = {**LIMIT, "type": "market", "qty": "2", "client_order_id": f"gap-{uuid.uuid4().hex}"}
    del body["limit_price"]
    placed = requests.post(api.url("/v2/orders"), json=body, headers=trade_key.headers, timeout=30)
    assert placed.status_code == 200, placed.text
    order_id = placed.json()["id"]
    perm_id = ids.parse_order_id(order_id)
    assert perm_id is not None
    eventually(lambda: Order.objects.filter(perm_id=perm_id, status="Filled").exists())

    Order.objects.filter(perm_id=perm_id).delete()  # as if the journal had not written it yet

    one = requests.get(api.url(f"/v2/orders/{order_id}"), headers=trade_key.headers, timeout=30)
    assert one.status_code == 200, one.text
    order = one.json()
    assert (order["status"], order["filled_qty"], order["client_order_id"]) == (
        "filled",
        "2",
        body["client_order_id"],
    )
    assert order["filled_avg_price"] is not None
    assert order["filled_at"] is not None
    closed = requests.get(
        api.url("/v2/orders"),
        params={"status": "closed", "symbols": "AAPL", "limit": "500"},
        headers=trade_key.headers,
        timeout=30,
    )
    assert order_id in [o["id"] for o in closed.json()]

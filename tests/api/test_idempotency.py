"""Idempotency-Key: retries and concurrent duplicates place an order once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.stack import Stack
from trading.models import IdempotencyRecord, OrderRequestLog

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def _limit(ref: str) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 1,
        "limit_price": 200.0,
        "order_ref": ref,
    }


def test_fifty_concurrent_posts_with_one_key_place_one_order(api: Stack) -> None:
    ref = f"idem-{uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())

    def post(_: int) -> tuple[int, str]:
        response = requests.post(
            api.url("/order/limit"), json=_limit(ref), headers={"Idempotency-Key": key}, timeout=60
        )
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(50)))

    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1
    assert api.sim.call("counters")["orders_by_ref"].get(ref) == 1
    # The key's record and the audit row are written in one transaction: the
    # 49 duplicates that lost the race for the key left no audit row.
    assert OrderRequestLog.objects.filter(idempotency_key=key).count() == 1
    assert IdempotencyRecord.objects.filter(key=key).count() == 1


def test_same_key_other_body_is_409_and_places_nothing(api: Stack) -> None:
    ref = f"idem-{uuid.uuid4().hex[:8]}"
    key = str(uuid.uuid4())
    first = api.post("/order/limit", _limit(ref), headers={"Idempotency-Key": key})
    assert first.status_code == 200

    replay = api.post("/order/limit", _limit(ref), headers={"Idempotency-Key": key})
    other = api.post(
        "/order/limit", {**_limit(ref), "quantity": 2}, headers={"Idempotency-Key": key}
    )

    assert (replay.status_code, replay.json()) == (200, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert other.json() == {"detail": "This Idempotency-Key was used with a different request body"}
    assert api.sim.call("counters")["orders_by_ref"].get(ref) == 1


def test_a_rejected_order_replays_its_rejection(api: Stack) -> None:
    key = str(uuid.uuid4())
    body = {"symbol": "NOSUCH", "action": "BUY", "quantity": 1, "limit_price": 10.0}

    first = api.post("/order/limit", body, headers={"Idempotency-Key": key})
    second = api.post("/order/limit", body, headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()

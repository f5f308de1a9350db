"""Order intents: written to Redis right before an order is sent to IB, and
removed once its outcome is known.  An intent still present when a worker
starts belongs to a worker that died mid-order; its client was (or will be)
told the order failed, so whatever of it reached IB is cancelled, and the
audit trail says what happened.  Nothing is ever placed again."""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from django.conf import settings


class IntentStore:
    def __init__(self) -> None:
        self.client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "ibkr")
        self.key = f"{prefix}:order-intents:{settings.IB_CLIENT_ID}"

    def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
        value = {"client_id": client_id, "order_ids": order_ids, "ts": time.time()}
        self.client.hset(self.key, str(request_id), json.dumps(value))

    def done(self, request_id: int) -> None:
        self.client.hdel(self.key, str(request_id))

    def pending(self) -> dict[int, dict[str, Any]]:
        raw = self.client.hgetall(self.key)
        return {int(k): json.loads(v) for k, v in raw.items()}

"""Order intents: recorded right before an order is sent to IB, and removed
once its outcome is known.  An intent still present when a worker starts
belongs to a worker that died mid-order; its client was (or will be) told the
order failed, so whatever of it reached IB is cancelled, and the audit trail
says what happened.  Nothing is ever placed again.

On Redis, one hash per gateway queue (request id -> JSON): adding and removing
an intent is one command, and the worker removes it in the same round trip
that answers the request (trading.gateway.intake).  In `make run`'s serverless
fallback, the Django cache (a file cache there): one key per intent plus an
index.  Only the one gateway worker process writes them."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

from trading import bus

TTL = 7 * 24 * 3600


class IntentStore:
    def __init__(self) -> None:
        self.index_key = f"order-intents:{settings.IB_CLIENT_ID}"
        self.lock = threading.Lock()

    def _key(self, request_id: int) -> str:
        return f"order-intent:{settings.IB_CLIENT_ID}:{request_id}"

    def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
        value = {"client_id": client_id, "order_ids": order_ids, "ts": time.time()}
        if bus.uses_redis():
            bus.client().hset(bus.intents_key(), str(request_id), json.dumps(value))
            return
        with self.lock:
            index = set(cache.get(self.index_key) or ())
            index.add(request_id)
            cache.set_many({self._key(request_id): value, self.index_key: index}, timeout=TTL)

    def done(self, request_id: int) -> None:
        if bus.uses_redis():
            bus.client().hdel(bus.intents_key(), str(request_id))
            return
        with self.lock:
            index = set(cache.get(self.index_key) or ())
            index.discard(request_id)
            cache.set(self.index_key, index, timeout=TTL)
            cache.delete(self._key(request_id))

    def pending(self) -> dict[int, dict[str, Any]]:
        if bus.uses_redis():
            stored = bus.client().hgetall(bus.intents_key())
            return {int(k): json.loads(v) for k, v in stored.items()}
        index = set(cache.get(self.index_key) or ())
        values = cache.get_many([self._key(r) for r in index])
        return {r: values[self._key(r)] for r in index if self._key(r) in values}

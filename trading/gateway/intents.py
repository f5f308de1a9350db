"""Order intents: recorded right before an order is sent to IB, and removed
once its outcome is known.  An intent still present when a worker starts
belongs to a worker that died mid-order; its client was (or will be) told the
order failed, so whatever of it reached IB is cancelled, and the audit trail
says what happened.  Nothing is ever placed again.

On Redis, one hash per gateway queue (request id -> JSON): adding an intent
is one command, and the bus removes it in the same round trip that answers
the request (``forget``, trading.gateway.intake).  In `make run`'s serverless
fallback, the Django cache (a file cache there): one key per intent plus an
index.  Only the one gateway worker process writes them."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

from trading import bus

TTL = 7 * 24 * 3600


class IntentStore(Protocol):
    def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None: ...
    def done(self, request_id: int) -> None: ...
    def pending(self) -> dict[int, dict[str, Any]]: ...


def _intent(client_id: int, order_ids: list[int]) -> dict[str, Any]:
    return {"client_id": client_id, "order_ids": order_ids, "ts": time.time()}


class RedisIntents:
    def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
        value = json.dumps(_intent(client_id, order_ids))
        bus.client().hset(bus.intents_key(), str(request_id), value)

    def done(self, request_id: int) -> None:
        bus.client().hdel(bus.intents_key(), str(request_id))

    @staticmethod
    def forget(pipe: Any, request_ids: list[int]) -> None:
        """Queue the removal of these intents on a Redis pipeline."""
        if request_ids:
            pipe.hdel(bus.intents_key(), *[str(r) for r in request_ids])

    def pending(self) -> dict[int, dict[str, Any]]:
        stored = bus.client().hgetall(bus.intents_key())
        return {int(k): json.loads(v) for k, v in stored.items()}


class CacheIntents:
    def __init__(self) -> None:
        self.index_key = f"order-intents:{settings.IB_CLIENT_ID}"
        self.lock = threading.Lock()

    def _key(self, request_id: int) -> str:
        return f"order-intent:{settings.IB_CLIENT_ID}:{request_id}"

    def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
        with self.lock:
            index = set(cache.get(self.index_key) or ())
            index.add(request_id)
            cache.set_many(
                {self._key(request_id): _intent(client_id, order_ids), self.index_key: index},
                timeout=TTL,
            )

    def done(self, request_id: int) -> None:
        with self.lock:
            index = set(cache.get(self.index_key) or ())
            index.discard(request_id)
            cache.set(self.index_key, index, timeout=TTL)
            cache.delete(self._key(request_id))

    def pending(self) -> dict[int, dict[str, Any]]:
        index = set(cache.get(self.index_key) or ())
        values = cache.get_many([self._key(r) for r in index])
        return {r: values[self._key(r)] for r in index if self._key(r) in values}


def intent_store() -> IntentStore:
    """Where the order bus runs on Redis, the intents live beside it."""
    return RedisIntents() if bus.uses_redis() else CacheIntents()

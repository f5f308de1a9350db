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

from trading import wire

TTL = 7 * 24 * 3600


class IntentStore(Protocol):
    async def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None: ...
    def done(self, request_id: int) -> None: ...
    def pending(self) -> dict[int, dict[str, Any]]: ...


def _intent(client_id: int, order_ids: list[int]) -> dict[str, Any]:
    return {"client_id": client_id, "order_ids": order_ids, "ts": time.time()}


class RedisIntents:
    async def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
        """From the gateway loop, which does other work while Redis answers."""
        value = json.dumps(_intent(client_id, order_ids))
        await wire.async_client().hset(wire.intents_key(), str(request_id), value)

    def done(self, request_id: int) -> None:
        wire.client().hdel(wire.intents_key(), str(request_id))

    @staticmethod
    def forget(pipe: Any, request_ids: list[int]) -> None:
        """Queue the removal of these intents on a Redis pipeline."""
        if request_ids:
            pipe.hdel(wire.intents_key(), *[str(r) for r in request_ids])

    def pending(self) -> dict[int, dict[str, Any]]:
        stored = wire.client().hgetall(wire.intents_key())
        return {int(k): json.loads(v) for k, v in stored.items()}


class CacheIntents:
    def __init__(self) -> None:
        self.index_key = f"order-intents:{settings.IB_CLIENT_ID}"
        self.lock = threading.Lock()

    def _key(self, request_id: int) -> str:
        return f"order-intent:{settings.IB_CLIENT_ID}:{request_id}"

    async def add(self, request_id: int, client_id: int, order_ids: list[int]) -> None:
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


class InFlight:
    """Requests this worker is placing right now: their intents are not
    orphans, whatever a reconnect meanwhile finds (trading.gateway.reconcile)."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, request_id: int) -> None:
        with self._lock:
            self._ids.add(request_id)

    def discard(self, *request_ids: int | None) -> None:
        with self._lock:
            self._ids.difference_update(request_ids)

    def __contains__(self, request_id: object) -> bool:
        with self._lock:
            return request_id in self._ids


def intent_store() -> IntentStore:
    """Where the order bus runs on Redis, the intents live beside it."""
    return RedisIntents() if wire.uses_redis() else CacheIntents()

"""The state mirror: the gateway worker publishes what it knows (account,
positions, open orders, session executions, a heartbeat) into the cache, and
the web processes read it from there.  No ib_async here: this module is the
web side's whole view of the gateway."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from trading import bus
from trading.exceptions import GatewayUnavailable, StateStoreUnavailable

PREFIX = "gateway:"
HEARTBEAT = PREFIX + "heartbeat"
SECTIONS = ("account", "positions", "orders", "executions")
# The mirror outlives a short worker restart, never a long one: a stale
# heartbeat already turns reads into 503s, the TTL just cleans up.
TTL = 24 * 3600


def publish(snapshot: dict[str, Any], also: Callable[[Any], None] | None = None) -> None:
    """Worker side: store a snapshot (sections and/or heartbeat).

    ``also`` adds more commands to the same Redis round trip (the order bus's
    answers, so they are sent only once the state they report is readable):
    it gets a pipeline on the bus's Redis, after the mirror's writes."""
    values = {PREFIX + key: value for key, value in snapshot.items()}
    if also is None:
        cache.set_many(values, timeout=TTL)
        return
    pipe = bus.client().pipeline(transaction=False)
    if _cache_is_bus_redis():
        # What Django's RedisCache would write: its key, a pickle (it stores
        # only ints raw), the TTL; cache.get_many() reads these as usual.
        for key, value in values.items():
            data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            pipe.set(cache.make_and_validate_key(key), data, ex=TTL)
    else:
        cache.set_many(values, timeout=TTL)
    also(pipe)
    pipe.execute()


def _cache_is_bus_redis() -> bool:
    options = settings.CACHES["default"]
    return (
        isinstance(cache, RedisCache)
        and not options.get("OPTIONS", {}).get("serializer")
        and options.get("LOCATION") == settings.CELERY_BROKER_URL
    )


def _get_many(keys: list[str]) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception as exc:  # the cache backend's connection errors vary by backend
        raise StateStoreUnavailable() from exc


def heartbeat() -> dict[str, Any] | None:
    value = _get_many([HEARTBEAT]).get(HEARTBEAT)
    return value if isinstance(value, dict) else None


def heartbeat_age(beat: dict[str, Any] | None) -> float | None:
    if not beat:
        return None
    return max(time.time() - float(beat.get("ts", 0)), 0.0)


def gateway_ready(beat: dict[str, Any] | None) -> bool:
    age = heartbeat_age(beat)
    return bool(
        beat and beat.get("connected") and age is not None and age <= settings.GATEWAY_STALE_AFTER
    )


def require_ready() -> dict[str, Any]:
    """Raise 503 unless the worker is alive and connected to the gateway."""
    beat = heartbeat()
    if not gateway_ready(beat):
        raise GatewayUnavailable()
    assert beat is not None
    return beat


def read_optional(section: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    """A section, or None when the gateway is down, and other cache keys (by
    their own names), in one round trip."""
    values = _get_many([HEARTBEAT, PREFIX + section, *extra])
    beat = values.get(HEARTBEAT)
    ready = gateway_ready(beat if isinstance(beat, dict) else None)
    return (values.get(PREFIX + section) if ready else None), {k: values.get(k) for k in extra}


def read(section: str) -> Any:
    """One section of the mirror, only while the gateway is connected and the
    worker alive (a stale answer about money is worse than a clear 503)."""
    data, _ = read_optional(section)
    if data is None:
        raise GatewayUnavailable()
    return data

"""The state mirror's read side: the gateway worker publishes what it knows
(account, positions, open orders, session executions, a heartbeat) into the
cache (trading.gateway.publisher), and the web processes read it from here.
This module is the web side's whole view of the gateway."""

from __future__ import annotations

import time
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisSerializer

from trading import wire
from trading.exceptions import GatewayUnavailable, StateStoreUnavailable
from trading.wire import HEARTBEAT, MIRROR_PREFIX

FINISHED_ORDERS = MIRROR_PREFIX + "finished_orders"

_values = RedisSerializer()  # Django's RedisCache's own reading of what it stored


def _get_many(keys: list[str]) -> dict[str, Any]:
    """The cache's values of ``keys`` that are there, in one round trip.
    Where the cache is Django's RedisCache on the bus's Redis, one ``MGET`` on
    the bus's connection pool, each value read as Django reads it: Django's
    backend builds a client object on every call, 0.16 ms of every read here
    (half its cost), and a mirror read is on every read endpoint."""
    try:
        if wire.cache_is_bus_redis():
            stored = wire.client().mget([wire.mirror_key(k) for k in keys])
            # bytes: the bus's client does not decode replies
            found = {k: cast(bytes, raw) for k, raw in zip(keys, stored, strict=True) if raw}
            return {k: _values.loads(raw) for k, raw in found.items()}
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
    return check_ready(heartbeat())


def check_ready(beat: dict[str, Any] | None) -> dict[str, Any]:
    """``require_ready`` on a heartbeat read already (trading.bus reads it in
    the round trip that sends a request)."""
    if not gateway_ready(beat):
        raise GatewayUnavailable()
    assert beat is not None
    return beat


def read_optional(section: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    """A section, or None when the gateway is down, and other cache keys (by
    their own names), in one round trip."""
    values = _get_many([HEARTBEAT, MIRROR_PREFIX + section, *extra])
    beat = values.get(HEARTBEAT)
    ready = gateway_ready(beat if isinstance(beat, dict) else None)
    return (values.get(MIRROR_PREFIX + section) if ready else None), {
        k: values.get(k) for k in extra
    }


def finished_orders() -> list[dict[str, Any]]:
    """The orders that finished last (trading.gateway.session), newest first,
    whether or not the gateway is there now: what they say is final."""
    value = _get_many([FINISHED_ORDERS]).get(FINISHED_ORDERS)
    return value if isinstance(value, list) else []


def read(section: str) -> Any:
    """One section of the mirror, only while the gateway is connected and the
    worker alive (a stale answer about money is worse than a clear 503)."""
    data, _ = read_optional(section)
    if data is None:
        raise GatewayUnavailable()
    return data

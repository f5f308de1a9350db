"""What the web processes and the gateway worker share, and nothing else: the
Redis connection, the names of the keys both sides use, and the one
vocabulary of outcomes the worker answers with.

A leaf: it imports nothing of the project, so both ends of the order bus
(``trading.bus``, ``trading.gateway.intake``) and both ends of the state
mirror (``trading.mirror``, ``trading.gateway.publisher``) depend on it, never
on each other."""

from __future__ import annotations

import asyncio
import threading
import weakref
from enum import StrEnum
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

# --- the order bus -------------------------------------------------------------

# Answers nobody collected (the web process died while waiting) expire.
REPLY_TTL = 60
OPERATIONS = ("place", "cancel", "modify", "assets", "cancel_all", "preview")
# Celery task names of the same operations, for the serverless fallback (the
# web sends them by name: it never imports the worker's code).
TASK_NAMES = {
    "place": "trading.order_place",
    "cancel": "trading.order_cancel",
    "modify": "trading.order_modify",  # a working order changed in place
    "assets": "trading.assets_lookup",  # contract details (trading.gateway.lookups)
    "cancel_all": "trading.orders_cancel_global",  # IB's global cancel (every client's)
    "preview": "trading.order_preview",  # IB's what-if: places nothing
}


def uses_redis() -> bool:
    """Orders travel on a Redis list (every real deployment), or as Celery
    tasks where the broker is not Redis (`make run`'s filesystem fallback)."""
    return bool(settings.ORDER_TRANSPORT == "redis")


def requests_key() -> str:
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:requests"


def intents_key() -> str:
    """A hash of the order intents of the worker on this queue (request id ->
    JSON), see trading.gateway.intents."""
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:intents"


def reply_prefix() -> str:
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:reply:"


def reply_key(request_id: str) -> str:
    return reply_prefix() + request_id


# --- the state mirror ----------------------------------------------------------

MIRROR_PREFIX = "gateway:"
HEARTBEAT = MIRROR_PREFIX + "heartbeat"
SECTIONS = ("account", "positions", "orders", "executions", "pnl")
# The mirror outlives a short worker restart, never a long one: a stale
# heartbeat already turns reads into 503s, the TTL just cleans up.
MIRROR_TTL = 24 * 3600


def cache_is_bus_redis() -> bool:
    """Whether the cache is Django's RedisCache on the bus's Redis, with its
    default pickles: then the order bus reads and writes mirror keys in its
    own round trips (``mirror_key``).  (``caches["default"]``, not ``cache``:
    that is a proxy, never an instance of the backend's class; asked of it,
    this said no on every deployment, which cost every order a Redis round
    trip until the profile of docs/benchmarks.md found it.)"""
    options = settings.CACHES["default"]
    return (
        isinstance(caches["default"], RedisCache)
        and not options.get("OPTIONS", {}).get("serializer")
        and options.get("LOCATION") == settings.CELERY_BROKER_URL
    )


def mirror_key(name: str) -> str:
    """The Redis key Django's cache stores ``name`` under (prefix, version);
    its value is a pickle (Django's RedisCache stores only ints raw)."""
    return caches["default"].make_and_validate_key(name)


# --- the connection ------------------------------------------------------------

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def client() -> redis.Redis:
    """One connection pool per process.  No socket timeout: a wait for an
    answer blocks on the server (BLPOP's own timeout); connecting may take 2 s."""
    global _client
    if _client is not None:
        return _client
    with _client_lock:
        if _client is None:
            _client = redis.Redis.from_url(
                settings.CELERY_BROKER_URL,
                socket_connect_timeout=2,
                # None, said outright: redis-py 8 reads a reply for 5 s by
                # default, and an order's wait (BLPOP, ORDER_ACK_TIMEOUT) is
                # longer; past 5 s it raised "Redis was lost" (a 504) while the
                # answer was still coming.
                socket_timeout=None,
                socket_keepalive=True,
                health_check_interval=30,
            )
        return _client


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


def async_client() -> aioredis.Redis:
    """The running event loop's connection pool (the gateway worker's loop:
    its end of the bus, its intents).  A command that finds its connection
    dropped (Redis restarted) is sent again once, on a new connection: every
    command sent this way is safe to repeat."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=2, retry=Retry(NoBackoff(), 1)
        )
        _async_clients[loop] = client
    return client


# --- outcomes ------------------------------------------------------------------


class OutcomeKind(StrEnum):
    """Every way a request to the worker can end.  trading.exceptions maps
    each failure to its HTTP status and message, in one table."""

    DONE = "done"  # placed (acknowledged by IB) or cancelled
    UNAVAILABLE = "unavailable"  # the worker is not connected to the gateway
    TIMEOUT = "timeout"  # IB did not acknowledge in time (the order was cancelled)
    EXPIRED = "expired"  # past its deadline before it could be sent: never sent
    REJECTED = "rejected"  # IB refused it (error code in ``code``)
    INSUFFICIENT_FUNDS = "no_buying_power"  # IB refused it: margin or buying power
    NOT_FOUND = "not_found"  # cancel: no working order with that permId
    LIVE_REFUSED = "live_refused"  # a live account while LIVE_TRADING is off
    LIMIT_EXCEEDED = "limit_exceeded"  # a pre-trade limit the worker checks (market notional)
    STATE_STORE = "state_store"  # the worker could not reach Redis: nothing sent
    WORKER_ERROR = "worker_error"  # a bug in the worker: check GET /orders


class Outcome(dict[str, Any]):
    """A worker's answer, as JSON: ``{"ok": true, "kind": "done", ...}`` or
    ``{"ok": false, "kind": <OutcomeKind>, "message": ..., "code": <IB code>}``.
    IB's warnings on an order that went through come as ``warnings``:
    ``[{"code": 2109, "message": "..."}]``."""

    @classmethod
    def done(cls, **fields: Any) -> Outcome:
        return cls(ok=True, kind=OutcomeKind.DONE.value, **fields)

    @classmethod
    def fail(cls, kind: OutcomeKind, message: str, code: int = 0) -> Outcome:
        return cls(ok=False, kind=kind.value, message=message, code=code)

    @property
    def kind(self) -> OutcomeKind:
        try:
            return OutcomeKind(self.get("kind") or "")
        except ValueError:  # an answer from a worker of another version
            return OutcomeKind.WORKER_ERROR if not self.get("ok") else OutcomeKind.DONE

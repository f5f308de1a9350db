"""The order bus: how a web process hands an order or a cancel to the gateway
worker, and gets the worker's answer back.

On Redis (every real deployment) a request is one JSON message pushed onto a
list that only the gateway worker pops (``LPUSH`` / ``BRPOP``), and the answer
comes back on a list of the request's own (``LPUSH`` / ``BLPOP``): one Redis
round trip each way.  Celery's task round trip (message envelope, result
backend, pub/sub) measured 4 ms here, against 0.8 ms for this, most of the
order's latency budget (docs/benchmarks.md).  The worker consumes the list
from a thread of its own inside the Celery worker process that holds the IB
connection (trading.gateway.intake); Celery still runs everything else there
(the scheduled journal sync, health pings).

Without Redis (``make run``'s serverless fallback, kombu's filesystem broker),
the same requests go as Celery tasks and their answers through Celery's result
backend: slower (about a second, polling files), same behaviour.

Requests carry their deadline: the worker drops one that is past it unsent
and answers "expired"; a web process that gives up waiting takes its request
back off the list when it is still there, so it can say for sure that nothing
was sent."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from typing import Any

import redis
from django.conf import settings

from trading.exceptions import GatewayTimeout, OrderExpired, StateStoreUnavailable

# Answers nobody collected (the web process died while waiting) expire.
REPLY_TTL = 60
OPERATIONS = ("place", "cancel")


def uses_redis() -> bool:
    return settings.ORDER_TRANSPORT == "redis"


def requests_key() -> str:
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:requests"


def intents_key() -> str:
    """A hash of the order intents of the worker on this queue (request id ->
    JSON), see trading.gateway.intents."""
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:intents"


def reply_prefix() -> str:
    return f"ibkr:bus:{settings.GATEWAY_QUEUE}:reply:"


def _reply_key(request_id: str) -> str:
    return reply_prefix() + request_id


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
                socket_keepalive=True,
                health_check_interval=30,
            )
        return _client


def call(op: str, args: dict[str, Any], *, deadline: float, timeout: float) -> dict[str, Any]:
    """Send one request to the gateway worker and wait for its outcome (a
    ``trading.gateway.runtime.Outcome`` as a dict).  Raises
    StateStoreUnavailable when it could not be sent, OrderExpired when it was
    never taken, GatewayTimeout when it was taken and no answer came."""
    if op not in OPERATIONS:
        raise ValueError(f"unknown operation {op!r}")
    if uses_redis():
        return _redis_call(op, args, deadline=deadline, timeout=timeout)
    return _celery_call(op, args, deadline=deadline, timeout=timeout)


def _redis_call(
    op: str, args: dict[str, Any], *, deadline: float, timeout: float
) -> dict[str, Any]:
    request_id = uuid.uuid4().hex
    reply = _reply_key(request_id)
    message = json.dumps(
        {"id": request_id, "op": op, "args": args, "deadline": deadline, "reply": reply}
    )
    conn = client()
    try:
        conn.lpush(requests_key(), message)
    except (redis.RedisError, OSError) as exc:
        raise StateStoreUnavailable() from exc
    try:
        answer = conn.blpop([reply], timeout=max(timeout, 0.01))
    except (redis.RedisError, OSError) as exc:
        # Sent, but its answer was lost with Redis: the order may or may not
        # have been placed; the worker's journal and audit trail will tell.
        raise GatewayTimeout(
            "Redis was lost while waiting for IB's acknowledgement; check GET /orders"
        ) from exc
    if answer is None:
        try:
            taken_back = conn.lrem(requests_key(), 1, message)
        except (redis.RedisError, OSError):
            taken_back = 0
        if taken_back:
            raise OrderExpired()  # no worker took it: nothing was sent
        raise GatewayTimeout()
    outcome: dict[str, Any] = json.loads(answer[1])
    return outcome


def _celery_call(
    op: str, args: dict[str, Any], *, deadline: float, timeout: float
) -> dict[str, Any]:
    from celery.exceptions import TaskRevokedError
    from celery.exceptions import TimeoutError as CeleryTimeout
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from trading import tasks

    task = tasks.order_place if op == "place" else tasks.order_cancel
    try:
        result = task.apply_async(kwargs={**args, "deadline": deadline}, expires=deadline)
    except (OperationalError, RedisError, ConnectionError) as exc:
        raise StateStoreUnavailable() from exc
    try:
        outcome: dict[str, Any] = result.get(timeout=timeout)
        return outcome
    except CeleryTimeout as exc:
        raise GatewayTimeout() from exc
    except TaskRevokedError as exc:  # Celery dropped it at its deadline (expires)
        raise OrderExpired() from exc
    except (OperationalError, RedisError, ConnectionError) as exc:
        raise GatewayTimeout(
            "Redis was lost while waiting for IB's acknowledgement; check GET /orders"
        ) from exc
    finally:
        with contextlib.suppress(Exception):  # best effort: drop the stored result
            result.forget()

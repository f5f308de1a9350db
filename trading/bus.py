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
was sent.

The worker's heartbeat (is it alive, connected, to which account) is read in
the round trip that sends the request (``admit``): a request the heartbeat
refuses is taken back, and when the worker has already taken it (it waits on
the list, so it takes a request the moment it arrives), the worker, which
knows the same and checks it itself, answers.  Reading it first cost every
order a round trip of its own (docs/benchmarks.md)."""

from __future__ import annotations

import contextlib
import json
import pickle
import uuid
from collections.abc import Callable
from typing import Any

import redis

from trading import mirror, wire
from trading.exceptions import DomainError, GatewayTimeout, OrderExpired, StateStoreUnavailable
from trading.wire import Outcome

# Raises the request's refusal (GatewayUnavailable, LiveTradingRefused...)
# given the worker's heartbeat (None: none published).
Admit = Callable[[dict[str, Any] | None], object]


class NotSent(Exception):
    """The heartbeat refused the request (``error``), and it was taken back
    or never sent: nothing reached the worker."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(str(error))
        self.error = error


def call(
    op: str,
    args: dict[str, object],
    *,
    deadline: float,
    timeout: float,
    admit: Admit | None = None,
) -> Outcome:
    """Send one request to the gateway worker and wait for its outcome.
    Raises NotSent when ``admit`` refused it, StateStoreUnavailable when it
    could not be sent, OrderExpired when it was never taken, GatewayTimeout
    when it was taken and no answer came."""
    if op not in wire.OPERATIONS:
        raise ValueError(f"unknown operation {op!r}")
    if wire.uses_redis():
        return _redis_call(op, args, deadline=deadline, timeout=timeout, admit=admit)
    _admit_first(admit)
    return _celery_call(op, args, deadline=deadline, timeout=timeout)


def _admit_first(admit: Admit | None) -> None:
    """The heartbeat read on its own, before sending (the fallbacks)."""
    if admit is not None:
        try:
            admit(mirror.heartbeat())
        except DomainError as exc:
            raise NotSent(exc) from exc


def _beat(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = pickle.loads(raw) if raw else None  # our own cache's value, as Django reads it
    except Exception:  # not a heartbeat: as if none was published
        return None
    return value if isinstance(value, dict) else None


def _redis_call(
    op: str, args: dict[str, object], *, deadline: float, timeout: float, admit: Admit | None
) -> Outcome:
    request_id = uuid.uuid4().hex
    reply = wire.reply_key(request_id)
    message = json.dumps(
        {"id": request_id, "op": op, "args": args, "deadline": deadline, "reply": reply}
    )
    conn = wire.client()
    together = admit is not None and wire.cache_is_bus_redis()
    if not together:
        _admit_first(admit)
    try:
        if together:
            pipe = conn.pipeline(transaction=False)
            pipe.get(wire.mirror_key(wire.HEARTBEAT))
            pipe.lpush(wire.requests_key(), message)
            raw_beat, _ = pipe.execute()
        else:
            conn.lpush(wire.requests_key(), message)
    except (redis.RedisError, OSError) as exc:
        raise StateStoreUnavailable() from exc
    if together:
        assert admit is not None
        try:
            admit(_beat(raw_beat))
        except DomainError as exc:
            if _take_back(conn, message):
                raise NotSent(exc) from exc
            # Taken already: the worker checks the same itself and answers.
    try:
        answer = conn.blpop([reply], timeout=max(timeout, 0.01))
    except (redis.RedisError, OSError) as exc:
        # Sent, but its answer was lost with Redis: the order may or may not
        # have been placed; the worker's journal and audit trail will tell.
        raise GatewayTimeout(
            "Redis was lost while waiting for IB's acknowledgement; check GET /orders"
        ) from exc
    if answer is None:
        if _take_back(conn, message):
            raise OrderExpired()  # no worker took it: nothing was sent
        raise GatewayTimeout()
    return Outcome(json.loads(answer[1]))


def _take_back(conn: redis.Redis, message: str) -> bool:
    """Remove a request nobody took yet; True if it was still there."""
    try:
        return bool(conn.lrem(wire.requests_key(), 1, message))
    except (redis.RedisError, OSError):
        return False


def _celery_call(op: str, args: dict[str, object], *, deadline: float, timeout: float) -> Outcome:
    from celery import current_app
    from celery.exceptions import TaskRevokedError
    from celery.exceptions import TimeoutError as CeleryTimeout
    from kombu.exceptions import OperationalError

    try:
        result = current_app.send_task(
            wire.TASK_NAMES[op], kwargs={**args, "deadline": deadline}, expires=deadline
        )
    except (OperationalError, redis.RedisError, ConnectionError) as exc:
        raise StateStoreUnavailable() from exc
    try:
        return Outcome(result.get(timeout=timeout))
    except CeleryTimeout as exc:
        raise GatewayTimeout() from exc
    except TaskRevokedError as exc:  # Celery dropped it at its deadline (expires)
        raise OrderExpired() from exc
    except (OperationalError, redis.RedisError, ConnectionError) as exc:
        raise GatewayTimeout(
            "Redis was lost while waiting for IB's acknowledgement; check GET /orders"
        ) from exc
    finally:
        with contextlib.suppress(Exception):  # best effort: drop the stored result
            result.forget()

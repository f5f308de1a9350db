"""Writes: orders go on the gateway queue; the answer comes back once IB has
acknowledged them (permId known) or the deadline has passed."""

from __future__ import annotations

import time
from typing import Any

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from kombu.exceptions import OperationalError

from trading import mirror, tasks
from trading.exceptions import (
    GatewayTimeout,
    GatewayUnavailable,
    OrderExpired,
    OrderNotFound,
    OrderRejected,
    StateStoreUnavailable,
)

# How long the web waits beyond the deadline the worker enforces, so the
# worker's own answer (placed, rejected, expired) arrives before we give up.
RESULT_GRACE = 2.0


def _run(task: Any, **kwargs: Any) -> dict[str, Any]:
    mirror.require_ready()
    deadline = time.time() + settings.ORDER_ACK_TIMEOUT
    try:
        result = task.apply_async(kwargs={**kwargs, "deadline": deadline}, expires=deadline)
    except OperationalError as exc:
        raise StateStoreUnavailable() from exc
    try:
        outcome: dict[str, Any] = result.get(timeout=settings.ORDER_ACK_TIMEOUT + RESULT_GRACE)
    except CeleryTimeout as exc:
        raise GatewayTimeout() from exc
    finally:
        result.forget()
    if outcome.get("ok"):
        return outcome
    kind, message = outcome.get("kind"), outcome.get("message") or ""
    if kind == "unavailable":
        raise GatewayUnavailable()
    if kind == "timeout":
        raise GatewayTimeout(detail=message)
    if kind == "expired":
        raise OrderExpired()
    if kind == "not_found":
        raise OrderNotFound()
    raise OrderRejected(detail=message)


def order_place(*, kind: str, data: dict[str, Any]) -> list[int]:
    """Place a limit, market, stop or bracket order; returns the permIds."""
    outcome = _run(tasks.order_place, kind=kind, data=data)
    return [int(p) for p in outcome["perm_ids"]]


def order_cancel(*, perm_id: int) -> None:
    _run(tasks.order_cancel, perm_id=perm_id)

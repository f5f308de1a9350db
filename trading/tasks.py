"""Celery tasks of the gateway worker.  Thin: primitive arguments in, a JSON
outcome out; the gateway package does the work.  ib_async is imported only
when a task runs (in the worker), never when the web process sends one."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from django.conf import settings


@shared_task(name="trading.order_place", acks_late=False)
def order_place(
    kind: str, data: dict[str, Any], deadline: float, request_id: int | None = None
) -> dict[str, Any]:
    """Place an order (all legs of a bracket) and wait until IB acknowledges it.

    acks_late is off on purpose: a worker killed mid-order must not have the
    message redelivered and place the order a second time."""
    from trading.gateway.runtime import Outcome, get_runtime

    if time.time() >= deadline:
        return Outcome.fail("expired", "deadline passed before the order could be sent")
    runtime = get_runtime()
    try:
        outcome = runtime.call(
            runtime.place(kind, data, deadline, request_id),
            timeout=max(deadline - time.time(), 0) + 5,
        )
    finally:
        runtime.intent_done(request_id)
    runtime.publish_now()
    return dict(outcome)


@shared_task(name="trading.order_cancel", acks_late=False)
def order_cancel(perm_id: int, deadline: float) -> dict[str, Any]:
    from trading.gateway.runtime import get_runtime

    runtime = get_runtime()
    outcome = runtime.call(
        runtime.cancel(perm_id, deadline), timeout=max(deadline - time.time(), 0) + 5
    )
    runtime.publish_now()
    return dict(outcome)


@shared_task(name="trading.gateway_ping")
def gateway_ping() -> dict[str, Any]:
    """A round trip through the queue (health checks, benchmarks)."""
    return {"ok": True, "client_id": settings.IB_CLIENT_ID}

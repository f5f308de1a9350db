"""Celery tasks of the gateway worker.  Thin: primitive arguments in, a JSON
outcome out; the gateway package does the work.  ib_async is imported only
when a task runs (in the worker), never when the web process sends one.

Orders reach the worker over the order bus (trading/bus.py): a Redis list
normally, these two tasks only where the broker is not Redis (`make run`'s
serverless fallback)."""

from __future__ import annotations

import time
from typing import Any

from celery import shared_task
from django.conf import settings


def _serve(op: str, args: dict[str, Any], deadline: float) -> dict[str, Any]:
    from trading.gateway.runtime import get_runtime

    runtime = get_runtime()
    try:
        outcome = runtime.call(
            runtime.serve(op, args, deadline), timeout=max(deadline - time.time(), 0) + 5
        )
    finally:
        runtime.intent_done(args.get("request_id"))
    runtime.publish_now()
    return dict(outcome)


@shared_task(name="trading.order_place", acks_late=False)
def order_place(
    kind: str, data: dict[str, Any], deadline: float, request_id: int | None = None
) -> dict[str, Any]:
    """Place an order (all legs of a bracket) and wait until IB acknowledges it.

    acks_late is off on purpose: a worker killed mid-order must not have the
    message redelivered and place the order a second time."""
    if time.time() >= deadline:
        from trading.gateway.runtime import Outcome

        return Outcome.fail("expired", "deadline passed before the order could be sent")
    return _serve("place", {"kind": kind, "data": data, "request_id": request_id}, deadline)


@shared_task(name="trading.order_cancel", acks_late=False)
def order_cancel(perm_id: int, deadline: float) -> dict[str, Any]:
    return _serve("cancel", {"perm_id": perm_id}, deadline)


@shared_task(name="trading.gateway_ping")
def gateway_ping() -> dict[str, Any]:
    """A round trip through the queue (health checks, benchmarks)."""
    return {"ok": True, "client_id": settings.IB_CLIENT_ID}

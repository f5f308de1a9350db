"""Writes: orders go to the gateway worker over the order bus (trading/bus.py);
the answer comes back once IB has acknowledged them (permId known) or the
deadline has passed.  Every request is checked (kill switch, limits, live vs
paper) and recorded in the audit trail before it is queued, and its outcome
after."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from trading import audit, bus, mirror, risk
from trading.exceptions import (
    DomainError,
    GatewayTimeout,
    GatewayUnavailable,
    OrderExpired,
    OrderNotFound,
    OrderRejected,
)
from trading.models import ApiToken, OrderRequestLog

# How long the web waits beyond the deadline the worker enforces, so the
# worker's own answer (placed, rejected, expired) arrives before we give up.
RESULT_GRACE = 2.0


@dataclass(frozen=True)
class Actor:
    """Who asks: for the audit trail and the live-trading check."""

    client: str
    token: ApiToken | None = None
    remote_addr: str = ""
    idempotency_key: str = ""


def _outcome_error(outcome: dict[str, Any]) -> DomainError:
    kind, message = outcome.get("kind"), outcome.get("message") or ""
    if kind == "unavailable":
        return GatewayUnavailable()
    if kind == "timeout":
        return GatewayTimeout(detail=message)
    if kind == "expired":
        return OrderExpired()
    if kind == "not_found":
        return OrderNotFound()
    return OrderRejected(detail=message)


def _run(op: str, log: OrderRequestLog, **args: Any) -> dict[str, Any]:
    started = time.monotonic()
    deadline = time.time() + settings.ORDER_ACK_TIMEOUT
    outcome: dict[str, Any] = {}
    error: DomainError | None = None
    try:
        outcome = bus.call(
            op, args, deadline=deadline, timeout=settings.ORDER_ACK_TIMEOUT + RESULT_GRACE
        )
        if not outcome.get("ok"):
            error = _outcome_error(outcome)
            raise error
        return outcome
    except DomainError as exc:
        error = exc
        if isinstance(exc, OrderExpired):
            outcome = outcome or {"kind": "expired"}
        raise
    finally:
        fields: dict[str, Any] = {
            "latency_ms": round((time.monotonic() - started) * 1000, 3),
            "answered_at": timezone.now(),
        }
        if error is None:
            fields.update(
                state="done",
                http_status=200,
                perm_ids=outcome.get("perm_ids") or [args.get("perm_id")],
            )
        else:
            fields.update(
                state=outcome.get("kind") or error.default_code,
                http_status=error.status_code,
                error=str(error.detail),
                error_code=outcome.get("code") or None,
            )
        audit.record_outcome(log.pk, **fields)


def _log(endpoint: str, body: dict[str, Any], actor: Actor) -> OrderRequestLog:
    return OrderRequestLog.objects.create(
        endpoint=endpoint,
        client=actor.client,
        remote_addr=actor.remote_addr,
        idempotency_key=actor.idempotency_key,
        body=body,
    )


def _refuse(log: OrderRequestLog, error: DomainError) -> DomainError:
    log.state = "refused"
    log.http_status = error.status_code
    log.error = str(error.detail)
    log.answered_at = timezone.now()
    log.save()
    return error


def order_place(*, kind: str, data: dict[str, Any], actor: Actor) -> list[int]:
    """Place a limit, market, stop or bracket order; returns the permIds."""
    log = _log(f"order/{kind}", data, actor)
    try:
        risk.halt_check()
        risk.limits_check(data=data)
        beat = mirror.require_ready()
        risk.live_check(beat=beat, token=actor.token)
    except DomainError as exc:
        raise _refuse(log, exc) from None
    outcome = _run("place", log, kind=kind, data=data, request_id=log.pk)
    return [int(p) for p in outcome["perm_ids"]]


def order_cancel(*, perm_id: int, actor: Actor) -> None:
    """Cancel by permId; allowed also while trading is halted."""
    log = _log("order/cancel", {"perm_id": perm_id}, actor)
    try:
        mirror.require_ready()
    except DomainError as exc:
        raise _refuse(log, exc) from None
    _run("cancel", log, perm_id=perm_id)

"""Writes: orders go to the gateway worker over the order bus (trading/bus.py);
the answer comes back once IB has acknowledged them (permId known) or the
deadline has passed.  Every request is recorded in the audit trail and
checked (kill switch, limits) before it is queued, and its outcome after;
the worker's heartbeat (gateway up, live vs paper) is read in the round trip
that sends it (a refused request is taken back: trading.bus), and the worker
checks the same again."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings

from trading import audit, bus, mirror, risk
from trading.audit import Actor
from trading.exceptions import DomainError, outcome_error
from trading.models import OrderRequestLog
from trading.wire import Outcome

if TYPE_CHECKING:
    from trading.idempotency import Claim

__all__ = [
    "Actor",
    "order_cancel",
    "order_modify",
    "order_place",
    "order_preview",
    "orders_cancel_global",
]

# How long the web waits beyond the deadline the worker enforces, so the
# worker's own answer (placed, rejected, expired) arrives before we give up.
RESULT_GRACE = 2.0


class Placed(NamedTuple):
    """An order placed: the permIds of its orders, in sending order, IB's
    status of each when it acknowledged them (PreSubmitted, Submitted,
    Filled...; trading.gateway.orders waits briefly for the first), and the
    conId of each one's contract (qualified before placing; None from a
    worker that does not say)."""

    perm_ids: list[int]
    statuses: list[str]
    con_ids: list[int | None]


def _run(op: str, log: OrderRequestLog, admit: bus.Admit, **args: Any) -> Outcome:
    """Send the request; ``admit`` checks the worker's heartbeat, read in the
    same round trip (a refusal there is recorded as before queueing)."""
    started = time.monotonic()
    deadline = time.time() + settings.ORDER_ACK_TIMEOUT
    outcome: Outcome | None = None
    error: DomainError | None = None
    refused = False
    try:
        outcome = bus.call(
            op,
            args,
            deadline=deadline,
            timeout=settings.ORDER_ACK_TIMEOUT + RESULT_GRACE,
            admit=admit,
        )
        if not outcome.get("ok"):
            raise outcome_error(outcome)
        return outcome
    except bus.NotSent as not_sent:
        refused = True
        audit.request_refused(log, not_sent.error)
        raise not_sent.error from None
    except DomainError as exc:
        error = exc
        raise
    finally:
        if not refused:
            latency_ms = round((time.monotonic() - started) * 1000, 3)
            fields = audit.outcome_fields(outcome=outcome, error=error, latency_ms=latency_ms)
            audit.outcome_recorded(log.pk, fields)


def _open(
    endpoint: str,
    body: dict[str, Any],
    actor: Actor,
    claim: Claim | None,
    statement: audit.Statement | None = None,
) -> audit.Opened:
    """The audit row, the kill switch, the Idempotency-Key's claim and the
    caller's ``statement`` (its own record of the request): one transaction,
    one round trip without a key."""
    return audit.request_opened(
        endpoint=endpoint,
        body=body,
        actor=actor,
        also=claim.make if claim else None,
        statement=statement,
    )


def _open_checked(
    endpoint: str,
    body: dict[str, Any],
    actor: Actor,
    claim: Claim | None,
    *,
    order: dict[str, Any],
    statement: audit.Statement | None = None,
) -> OrderRequestLog:
    """The audit row (``_open``), then what refuses an ``order`` before it is
    queued, each refusal audited: the caller's statement, the kill switch,
    the pre-trade limits."""
    opened = _open(endpoint, body, actor, claim, statement)
    try:
        refusal = statement.check(opened.found) if statement is not None else None
        if refusal is not None:
            raise refusal
        risk.halt_check(opened.halted)
        risk.limits_check(data=order)
    except DomainError as exc:
        audit.request_refused(opened.row, exc)
        raise
    return opened.row


def _live_admit(actor: Actor) -> bus.Admit:
    """The bus's admission of an order: the gateway up, and a live account
    only for a token that may trade it (trading.risk)."""

    def admit(beat: dict[str, Any] | None) -> None:
        risk.live_check(beat=mirror.check_ready(beat), token=actor.token)

    return admit


def order_place(
    *,
    kind: str,
    data: dict[str, Any],
    actor: Actor,
    claim: Claim | None = None,
    statement: audit.Statement | None = None,
) -> Placed:
    """Place an order of ``kind`` (trading.gateway.order_building's: a single
    order, or a bracket, oto or oco); returns the permIds of its orders and
    IB's status of each as it acknowledged them.  ``statement`` writes with
    the audit row (v2api's client_order_id) and may refuse the request
    (refused like a limit, after the commit: audited)."""
    log = _open_checked(f"order/{kind}", data, actor, claim, order=data, statement=statement)
    live_scope = risk.live_scope(actor.token)  # the worker checks the live rule too
    outcome = _run(
        "place",
        log,
        _live_admit(actor),
        kind=kind,
        data=data,
        request_id=log.pk,
        live_scope=live_scope,
    )
    perm_ids = [int(p) for p in outcome["perm_ids"]]
    statuses = [str(s) for s in outcome.get("statuses") or [""] * len(perm_ids)]
    con_ids = [int(c) if c else None for c in outcome.get("con_ids") or [None] * len(perm_ids)]
    return Placed(perm_ids, statuses, con_ids)


def order_modify(
    *,
    perm_id: int,
    changes: dict[str, Any],
    order: dict[str, Any],
    actor: Actor,
    claim: Claim | None = None,
) -> None:
    """Change a working order in place (trading.gateway.order_building's
    CHANGES, in IB's terms).  ``order`` is the order as changed (symbol,
    quantity, prices): the kill switch and the limits judge it as a new
    order; the worker refuses what IB cannot change."""
    body = {"perm_id": perm_id, **changes}
    log = _open_checked("order/modify", body, actor, claim, order=order)
    _run("modify", log, _live_admit(actor), perm_id=perm_id, changes=changes)


def order_preview(*, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """IB's what-if of an order (its first order, for one with legs): places
    nothing, so neither audited nor checked against the limits."""
    deadline = time.time() + settings.ORDER_ACK_TIMEOUT
    try:
        outcome = bus.call(
            "preview",
            {"kind": kind, "data": data},
            deadline=deadline,
            timeout=settings.ORDER_ACK_TIMEOUT + RESULT_GRACE,
            admit=mirror.check_ready,
        )
    except bus.NotSent as not_sent:
        raise not_sent.error from None
    if not outcome.get("ok"):
        raise outcome_error(outcome)
    preview: dict[str, Any] = outcome["preview"]
    return preview


def orders_cancel_global(*, actor: Actor, claim: Claim | None = None) -> None:
    """IB's global cancel of every client's working orders (allowed also while
    trading is halted); refused (recorded) to a token that may not."""
    log = _open("order/cancel_all", {"scope": "all"}, actor, claim).row
    try:
        risk.global_cancel_check(actor.token)
    except DomainError as exc:
        audit.request_refused(log, exc)
        raise
    _run("cancel_all", log, mirror.check_ready)


def order_cancel(*, perm_id: int, actor: Actor, claim: Claim | None = None) -> None:
    """Cancel by permId; allowed also while trading is halted."""
    log = _open("order/cancel", {"perm_id": perm_id}, actor, claim).row
    _run("cancel", log, mirror.check_ready, perm_id=perm_id)

"""/v2's writes, each through trading.services: scopes (the views' permission),
the live guard, the pre-trade limits, the kill switch, the audit trail and
the deadlines apply exactly as on the root endpoints, because it is the same
path.  What /v2 adds: Alpaca's client_order_id, unique and carried to IB as
the orderRef, and cancelling every order of ours at once."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from journal.durability import commit_without_flush_wait
from trading import services
from trading.audit import Statement
from trading.error_handler import alpaca_error
from trading.exceptions import DomainError, GatewayTimeout, WorkerError
from trading.idempotency import Claim
from trading.services import Actor
from v2api import ib_orders, mapping, selectors
from v2api.exceptions import DuplicateClientOrderId, OrderNotReplaceable, OrderUnknown
from v2api.ids import order_uuid, parse_order_id
from v2api.models import ClientOrderId, OrderReplacement

__all__ = ["Actor", "order_cancel", "order_replace", "order_submit", "orders_cancel_all"]

# Errors after which an order may stand at IB (sent, then cancelled for want
# of an answer; or unknown): its client_order_id stays taken.  After any
# other error nothing stands at IB, and the id is free for a corrected retry.
MAY_HAVE_REACHED_IB = (GatewayTimeout, WorkerError)


def _reserve(client_order_id: str, claim: Claim | None) -> ClientOrderId:
    """A replacement's id, in its own committed transaction before anything
    is sent (as an order's, ``order_submit``): a concurrent request with the
    same id collides here.  The Idempotency-Key is claimed first, so that a
    retry with the key replays the first answer instead of colliding with
    its own id."""
    if claim is not None:
        with transaction.atomic():
            claim.make()  # KeyTaken: trading.idempotency replays the first answer
    try:
        with transaction.atomic():
            commit_without_flush_wait()  # (journal.durability: as the audit row)
            return ClientOrderId.objects.create(client_order_id=client_order_id)
    except IntegrityError:
        raise DuplicateClientOrderId() from None


def _reservation(client_order_id: str, reserved: list[int]) -> Statement:
    """The client_order_id's reservation, written with the audit row before
    anything is sent (in its transaction and round trip: trading.audit): a
    concurrent request with the same id collides there, in the database
    (``ON CONFLICT DO NOTHING``: no row back, no savepoint), and is refused,
    audited.  With an Idempotency-Key, after the key's claim: a retry with the
    key replays the first answer instead of colliding with its own id."""
    meta = ClientOrderId._meta
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({qn('client_order_id')}, {qn('created_at')}) "
        f"VALUES (%s, %s) ON CONFLICT ({qn('client_order_id')}) DO NOTHING "
        f"RETURNING {qn(str(meta.pk.column))}"
    )
    created_at = meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)

    def check(row: tuple[Any, ...] | None) -> DomainError | None:
        if row is None:
            return DuplicateClientOrderId()
        reserved.append(int(row[0]))
        return None

    return Statement(sql, [client_order_id, created_at], check)


def order_submit(
    *, order: dict[str, Any], actor: Actor, claim: Claim | None = None
) -> dict[str, Any]:
    """Place a validated Alpaca order (v2api.serializers.AlpacaOrder, in IB's
    terms by v2api.ib_orders); returns Alpaca's order object (a bracket, oto
    or oco with its legs)."""
    client_order_id = order.get("client_order_id") or str(uuid.uuid4())
    kind, data = ib_orders.order_request(order, order_ref=client_order_id)
    reserved: list[int] = []
    placed_at = timezone.now()
    try:
        placed = services.order_place(
            kind=kind,
            data=data,
            actor=actor,
            claim=claim,
            statement=_reservation(client_order_id, reserved),
        )
    except DomainError as exc:
        if reserved and not isinstance(exc, MAY_HAVE_REACHED_IB):
            # Nothing reached IB: the id is free for a corrected retry.
            ClientOrderId.objects.filter(pk=reserved[0]).delete()
        raise
    # The reservation keeps no permId: the lookup by client_order_id finds the
    # order by IB's orderRef (selectors.order_get_by_client_order_id).
    requested = ib_orders.requested_records(
        kind, data, placed.perm_ids, placed_at=placed_at, con_ids=placed.con_ids
    )
    return selectors.order_placed(
        perm_ids=placed.perm_ids, requests=requested, statuses=placed.statuses
    )


def order_replace(
    *, order_id: str, changes: dict[str, Any], actor: Actor, claim: Claim | None = None
) -> dict[str, Any]:
    """Replace a working order (Alpaca's PATCH /v2/orders/{id}: qty,
    time_in_force, limit_price, stop_price, trail, client_order_id).  IB
    changes the order in place; the answer is Alpaca's new order, whose
    ``replaces`` is the old one (v2api.models.OrderReplacement)."""
    perm_id, revision = selectors.order_id_check(order_id)
    client_order_id = changes.get("client_order_id") or str(uuid.uuid4())
    reservation = _reserve(client_order_id, claim)  # the Idempotency-Key first
    try:
        record = selectors.order_replaceable(perm_id=perm_id, revision=revision)
        refusal = ib_orders.replacement_refusal(record, changes)
        if refusal:
            raise OrderNotReplaceable(refusal)
        try:
            with transaction.atomic():
                replacement = OrderReplacement.objects.create(
                    perm_id=perm_id,
                    revision=revision + 1,
                    client_order_id=client_order_id,
                    before=mapping.replaced_fields(record),
                )
        except IntegrityError:
            raise OrderNotReplaceable("order is being replaced by another request") from None
    except DomainError:
        reservation.delete()
        raise
    ib_changes = ib_orders.replacement_changes(record, changes)
    ib_changes["order_ref"] = client_order_id
    try:
        services.order_modify(
            perm_id=perm_id,
            changes=ib_changes,
            order=ib_orders.replaced_order(record, ib_changes),
            actor=actor,
        )
    except DomainError as exc:
        if not isinstance(exc, MAY_HAVE_REACHED_IB):
            # Nothing changed at IB: the old order stands, the ids are free.
            replacement.delete()
            reservation.delete()
        raise
    with transaction.atomic():
        OrderReplacement.objects.filter(pk=replacement.pk).update(confirmed=True)
        # Both ids name the order now: the replaced one stays findable by its
        # client_order_id, though IB's orderRef is the new one.
        ClientOrderId.objects.filter(pk=reservation.pk).update(perm_id=perm_id)
        old_ref = record["order_ref"]
        if old_ref:
            ClientOrderId.objects.filter(client_order_id=old_ref, perm_id__isnull=True).update(
                perm_id=perm_id
            )
            ClientOrderId.objects.get_or_create(
                client_order_id=old_ref, defaults={"perm_id": perm_id}
            )
    return selectors.order_get(order_id=str(order_uuid(perm_id, revision + 1)), nested=True)


def order_cancel(*, order_id: str, actor: Actor) -> None:
    perm_id = parse_order_id(order_id)
    if perm_id is None:
        raise OrderUnknown()
    services.order_cancel(perm_id=perm_id, actor=actor)


def orders_cancel_all(*, actor: Actor, scope: str = "ours") -> list[dict[str, Any]]:
    """Cancel every working order of ours (placed by this service's IB client
    id), one by one; Alpaca's multi-status answer: the id, the status and the
    canceled order or the error, per order.  Orders of other clients stay.
    ``scope`` all: IB's global cancel of every client's orders at once
    (trading.services.orders_cancel_global: a 'live' token's, see there)."""
    if scope == "all":
        return _cancel_global(actor)
    results = []
    for record in selectors.working_records(client_id=settings.IB_CLIENT_ID):
        order_id = str(order_uuid(record["perm_id"]))
        try:
            services.order_cancel(perm_id=record["perm_id"], actor=actor)
        except DomainError as exc:
            status, body = alpaca_error(exc)
            results.append({"id": order_id, "status": status, "body": body})
            continue
        now = timezone.now()
        canceled = {**record, "status": "Cancelled", "finished_at": now, "updated_at": now}
        results.append(
            {"id": order_id, "status": 200, "body": mapping.order_out(canceled, now=now)}
        )
    return results


def _cancel_global(actor: Actor) -> list[dict[str, Any]]:
    records = selectors.working_records()
    services.orders_cancel_global(actor=actor)
    now = timezone.now()
    return [
        {
            "id": str(order_uuid(record["perm_id"])),
            "status": 200,
            "body": mapping.order_out(
                {**record, "status": "Cancelled", "finished_at": now, "updated_at": now}, now=now
            ),
        }
        for record in records
    ]


def order_preview(*, order: dict[str, Any]) -> dict[str, Any]:
    """IB's what-if of a validated Alpaca order (its first order, for one with
    legs): commission, margins and equity with loan; places nothing."""
    kind, data = ib_orders.order_request(order, order_ref=order.get("client_order_id") or "")
    preview = services.order_preview(kind=kind, data=data)
    text = ("commission_currency", "warning_text")
    return {
        name: value if name in text else mapping.decimal_text(value)
        for name, value in preview.items()
    }

"""Closing positions, Alpaca's DELETE /v2/positions[/{symbol_or_asset_id}]:
a market order for the opposite side, placed exactly as POST /v2/orders
places one (the request validated by its serializer, then
v2api.services.order_submit: trading.services.order_place's scopes, live
guard, limits, kill switch, audit trail and deadlines; a client_order_id
generated and reserved).

IB takes whole shares only: a qty or a percentage that would need a
fraction of a share is refused (422) before anything is sent, as is closing
a position of a class /v2 cannot order yet (options, crypto)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from trading.error_handler import alpaca_error
from trading.exceptions import DomainError
from trading.idempotency import Claim
from v2api import selectors, serializers, services
from v2api.services import Actor

HUNDRED = Decimal(100)


class CloseQuantityFractional(DomainError):
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "IB takes whole shares only: the quantity to close must be whole"
    default_code = "close_quantity_fractional"


class CloseQuantityExceeds(DomainError):
    # Alpaca answers 403 "insufficient qty available for order".
    status_code: int = status.HTTP_403_FORBIDDEN
    default_detail = "insufficient qty available for order"
    default_code = "close_quantity_exceeds"


class CloseClassUnsupported(DomainError):
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "closing positions of this asset class is not supported yet (us_equity only)"
    default_code = "close_class_unsupported"


def close_quantity(
    *, position: dict[str, Any], qty: Decimal | None = None, percentage: Decimal | None = None
) -> int:
    """How many shares to close of an Alpaca position: ``qty``, or
    ``percentage`` of it, or all of it; whole shares, at most the position."""
    held = abs(Decimal(position["qty"]))
    if qty is not None:
        wanted = qty
    elif percentage is not None:
        wanted = held * percentage / HUNDRED
    else:
        wanted = held
    if wanted != wanted.to_integral_value():
        raise CloseQuantityFractional(
            f"IB takes whole shares only: closing {wanted.normalize():f} of "
            f"{position['symbol']} would need a fraction of a share"
        )
    if wanted > held:
        raise CloseQuantityExceeds(
            f"insufficient qty available for order (requested: {wanted.normalize():f}, "
            f"available: {held.normalize():f})"
        )
    return int(wanted)


def _close(
    position: dict[str, Any], actor: Actor, qty: Decimal | None, percentage: Decimal | None
) -> dict[str, Any]:
    if position["asset_class"] != "us_equity":
        raise CloseClassUnsupported(
            f"closing {position['asset_class']} positions is not supported yet "
            f"({position['symbol']}): us_equity only"
        )
    shares = close_quantity(position=position, qty=qty, percentage=percentage)
    body = {
        "symbol": position["symbol"],
        "qty": str(shares),
        "side": "sell" if position["side"] == "long" else "buy",
        "type": "market",
        "time_in_force": "day",
    }
    form = serializers.order_request(body)
    form.is_valid(raise_exception=True)
    return services.order_submit(order=dict(form.validated_data), actor=actor)


def position_close(
    *,
    symbol_or_asset_id: str,
    actor: Actor,
    qty: Decimal | None = None,
    percentage: Decimal | None = None,
    claim: Claim | None = None,
) -> dict[str, Any]:
    """Close one position (all of it, ``qty`` shares, or ``percentage`` of
    it); returns Alpaca's order object of the closing order.  404 when there
    is no such position."""
    _claim_first(claim)
    position = selectors.position_get(symbol_or_asset_id=symbol_or_asset_id)
    return _close(position, actor, qty, percentage)


def _claim_first(claim: Claim | None) -> None:
    """The Idempotency-Key, claimed before the position is read: a retry of a
    close that went through replays its answer instead of finding the
    position gone (404) or closing what is left of it again."""
    if claim is not None:
        with transaction.atomic():
            claim.make()  # KeyTaken: trading.idempotency replays the first answer


def positions_close_all(
    *, actor: Actor, cancel_orders: bool = False, claim: Claim | None = None
) -> list[dict[str, Any]]:
    """Close every open position, one market order each; with
    ``cancel_orders``, cancel our working orders first (as DELETE /v2/orders
    does).  Alpaca's multi-status answer: per symbol, 200 and the closing
    order, or the refusal's status and error."""
    _claim_first(claim)
    if cancel_orders:
        services.orders_cancel_all(actor=actor)
    results = []
    for position in selectors.positions_list():
        try:
            order = _close(position, actor, None, None)
        except APIException as exc:  # a refusal of ours, invalid input, IB's rejection
            code, body = alpaca_error(exc)
            results.append({"symbol": position["symbol"], "status": code, "body": body})
            continue
        results.append({"symbol": position["symbol"], "status": 200, "body": order})
    return results

"""Alpaca's UUIDs for IB's objects, derived so that none is ever stored.

- An order id carries its permId: a UUID of version 8 (RFC 9562's custom
  layout) whose first 48 bits mark it as ours and whose other free bits are
  the permId.  ``perm_id_of`` reads the permId back without a lookup table,
  for orders of every client (TWS included), placed before or after a
  restart, stored or not.  The same permId gives the same id on every server.
  A replaced order (PATCH /v2/orders/{id}: IB modifies it in place, permId
  and all) takes a new id, as Alpaca's replacement order does: the same
  permId with its revision (1, 2, ...) in spare bits; revision 0 is the id
  the order was placed with.
- An asset id is ``uuid5`` of IB's conId (its decimal text) in a namespace
  of ours: the contract's own id at IB, the same in the mirror's positions
  and orders, the journal's rows and the contract details of
  GET /v2/assets, and one per contract (an option has its own, not its
  underlying's).  Until this release it was ``uuid5`` of the symbol: the
  ids changed once (v2api/README.md).  A journal row stored before conIds
  were kept has none: v2api.selectors gives it its symbol's stock conId
  (``con_ids_filled``), or no asset id when none is known.
- The account id is ``uuid5`` of IB's account id (``DU1234567``)."""

from __future__ import annotations

import uuid

ASSET_NAMESPACE = uuid.UUID("37c6ac64-1d4f-48b2-8145-067fb7238b24")
ACCOUNT_NAMESPACE = uuid.UUID("a87112b7-c701-4b82-b4b4-3837e16cea42")

# Layout of an order id (128 bits, high to low): the mark (48), the version
# 8 (4), the revision (11) and the permId's bit 62 (1), the variant 0b10
# (2), the permId's low 62 bits (62).  IB's permIds are positive 64-bit
# integers.
ORDER_MARK = 0xE24FC7498E41
MAX_PERM_ID = 2**63 - 1
MAX_REVISION = 2**11 - 1
_LOW_BITS = 62
_LOW_MASK = (1 << _LOW_BITS) - 1


def order_uuid(perm_id: int, revision: int = 0) -> uuid.UUID:
    """The order id of an IB order (its permId) as placed (revision 0) or
    after its ``revision``-th replacement."""
    if not 0 < perm_id <= MAX_PERM_ID:
        raise ValueError(f"not a permId: {perm_id!r}")
    if not 0 <= revision <= MAX_REVISION:
        raise ValueError(f"not a revision: {revision!r}")
    value = (
        (ORDER_MARK << 80)
        | (8 << 76)
        | (revision << 65)
        | ((perm_id >> _LOW_BITS) << 64)
        | (0b10 << 62)
        | (perm_id & _LOW_MASK)
    )
    return uuid.UUID(int=value)


def order_of(order_id: uuid.UUID) -> tuple[int, int] | None:
    """The permId and revision an order id carries, or None when it is no
    order id of ours."""
    value = order_id.int
    if value >> 80 != ORDER_MARK or (value >> 76) & 0xF != 8 or (value >> 62) & 0b11 != 0b10:
        return None
    perm_id = (((value >> 64) & 1) << _LOW_BITS) | (value & _LOW_MASK)
    revision = (value >> 65) & MAX_REVISION
    return (perm_id, revision) if 0 < perm_id <= MAX_PERM_ID else None


def perm_id_of(order_id: uuid.UUID) -> int | None:
    """The permId an order id carries, or None when it is no order id of ours."""
    found = order_of(order_id)
    return found[0] if found else None


def parse_order(text: str) -> tuple[int, int] | None:
    """The permId and revision named by an order id in a URL, or None (not a
    UUID, or not ours)."""
    try:
        return order_of(uuid.UUID(text))
    except ValueError:
        return None


def parse_order_id(text: str) -> int | None:
    """The permId named by an order id in a URL, or None (not a UUID, or not ours)."""
    found = parse_order(text)
    return found[0] if found else None


def asset_uuid(con_id: int) -> uuid.UUID:
    """The asset id of the contract IB numbers ``con_id``."""
    if con_id <= 0:
        raise ValueError(f"not a conId: {con_id!r}")
    return uuid.uuid5(ASSET_NAMESPACE, str(con_id))


def asset_id(con_id: int | None) -> str | None:
    """An asset id as /v2 writes one; None (unknown) without a conId."""
    return str(asset_uuid(int(con_id))) if con_id else None


def account_uuid(account: str) -> uuid.UUID:
    return uuid.uuid5(ACCOUNT_NAMESPACE, account)

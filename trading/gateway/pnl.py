"""The account's profit and loss as IB's reqPnL reports it (daily,
unrealized, realized), subscribed after each connect and published in the
state mirror's ``pnl`` section (read by GET /v2/account/pnl).  IB pushes new
figures whenever they change; ib_async keeps the subscription's PnL object
current and drops it when the connection goes (its wrapper resets), so each
connect subscribes again."""

from __future__ import annotations

import math
from typing import Any

from ib_async import IB

# IB's "no value" for a double (Double.MAX_VALUE), as in its pnl messages
# before a figure is known.
UNSET_DOUBLE = 1.7976931348623157e308


def pnl_subscribe(ib: IB, account: str) -> None:
    """Subscribe to the account's P&L, unless this connection already is."""
    if account and not ib.pnl(account):
        ib.reqPnL(account)


def _figure(value: Any) -> float | None:
    """A figure, or None where IB reported none (NaN before the first
    message, IB's unset value)."""
    if value is None:
        return None
    number = float(value)
    if math.isnan(number) or math.isinf(number) or abs(number) >= UNSET_DOUBLE:
        return None
    return number


def pnl_section(ib: IB, account: str) -> dict[str, Any] | None:
    """The mirror's ``pnl`` section: None while not subscribed (not connected)."""
    rows = [row for row in ib.pnl(account) if not row.modelCode]
    if not account or not rows:
        return None
    row = rows[0]
    return {
        "account": account,
        "daily": _figure(row.dailyPnL),
        "unrealized": _figure(row.unrealizedPnL),
        "realized": _figure(row.realizedPnL),
    }

"""Which cancelled orders expired.  IB's API reports a DAY order ended by the
close as ``Cancelled``, as it reports a cancel; Alpaca's clients need to know
(``expired``).  A DAY order cancelled without a cancel from this service
expired when the gateway's clock is past the order's session by its trading
hours (the regular one; the extended one for outsideRth); otherwise TWS or
another client cancelled it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ib_async import Trade

from trading.gateway import mapping
from trading.gateway.lookups import Lookups
from trading.gateway.session import Session


class Expiry:
    def __init__(
        self,
        *,
        lookups: Lookups,
        session: Session,
        cancels_sent: set[int],
        expired: Callable[[Trade], None],
    ) -> None:
        self.lookups = lookups
        self.session = session
        self.cancels_sent = cancels_sent  # trading.gateway.order_changes' (shared)
        self.expired = expired  # the journal and the mirror learn it
        self._checks: set[asyncio.Future[None]] = set()

    def on_order(self, trade: Trade) -> None:
        """An order changed (gateway loop): check a DAY order that was just
        cancelled, not by us."""
        if (
            trade.order.permId
            and trade.order.tif == "DAY"
            and mapping.order_status(trade) == "Cancelled"
            and trade.order.permId not in self.cancels_sent
        ):
            check = asyncio.ensure_future(self._check(trade))
            self._checks.add(check)
            check.add_done_callback(self._checks.discard)

    async def _check(self, trade: Any) -> None:
        # The clock first: a simulator's clock moved to the close shows here.
        await self.lookups.refresh_shared()
        if self.lookups.in_session(outside_rth=bool(trade.order.outsideRth)) is False:
            self.session.expire(trade)
            self.expired(trade)

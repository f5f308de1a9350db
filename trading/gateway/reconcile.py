"""Orphan intents: orders of requests whose worker died mid-order.  Their
clients were (or will be) told the order failed, so whatever of them still
works at IB is cancelled, and the audit trail says what happened.  Nothing is
ever placed again."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from ib_async import IB

from trading.gateway import mapping
from trading.gateway.intents import InFlight, IntentStore

log = logging.getLogger("trading.gateway")

# (request id, audit state, permIds) -> recorded in the audit trail
Report = Callable[[int, str, list[int]], None]


def orphans_reconcile(*, ib: IB, intents: IntentStore, in_flight: InFlight, report: Report) -> None:
    try:
        pending = intents.pending()
    except Exception:
        log.warning("could not read order intents", exc_info=True)
        return
    for request_id, intent in pending.items():
        if request_id in in_flight:
            continue
        keys = {(intent["client_id"], order_id) for order_id in intent["order_ids"]}
        trades = [t for t in ib.trades() if (t.order.clientId, t.order.orderId) in keys]
        filled = [f for f in ib.fills() if (f.execution.clientId, f.execution.orderId) in keys]
        working = [t for t in trades if not mapping.is_finished(t)]
        for trade in working:
            ib.cancelOrder(trade.order)
        perm_ids = sorted({t.order.permId for t in trades if t.order.permId})
        if filled:
            state = "orphan_filled"
        elif working:
            state = "orphan_cancelled"
        elif trades:
            state = "orphan_done"
        else:
            state = "not_placed"
        log.warning(
            "reconciled order request %s of a worker that died mid-order: %s %s",
            request_id,
            state,
            perm_ids,
        )
        report(request_id, state, perm_ids)
        with contextlib.suppress(Exception):
            intents.done(request_id)

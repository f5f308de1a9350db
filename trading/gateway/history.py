"""The day's executions and orders as the gateway has them, for the
journal's sync (journal.services.executions_sync gets this as its fetch)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from ib_async import IB

from trading.gateway import mapping
from trading.gateway.connection import DecoderTaps
from trading.gateway.session import Session


async def history_fetch(
    *, ib: IB, taps: DecoderTaps, session: Session
) -> dict[str, list[dict[str, Any]]]:
    fills = await asyncio.wait_for(ib.reqExecutionsAsync(), settings.IB_REQUEST_TIMEOUT)
    known = ib.wrapper.fills  # live fills carry their commission report
    executions = [
        mapping.execution_data(
            known.get(f.execution.execId, f),
            ib_time=taps.raw_time(f.execution.execId),
            pnl_unset=taps.pnl_unset(f.execution.execId),
        )
        for f in fills
    ]
    session.requested_exec_ids.update(f.execution.execId for f in fills)
    completed = await asyncio.wait_for(
        ib.reqCompletedOrdersAsync(apiOnly=False), settings.IB_REQUEST_TIMEOUT
    )
    trades = [*completed, *(t for t in ib.trades() if not mapping.is_finished(t))]
    return {
        "executions": executions,
        "orders": [mapping.order_data(t) for t in trades if t.order.permId],
    }

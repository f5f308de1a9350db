"""The comparison points of the order benchmark, against the same simulator:

- floor A: one long-lived ib_async connection placing orders directly (what
  the service can at best approach);
- anchor: the reference guide's design, connect + qualify + place +
  disconnect for every request.

(Floor B, the cost of an HTTP request through the same gunicorn and DRF
stack doing nothing, is the web's ``/bench/noop`` endpoint.)

The bench deliberately talks to the gateway directly here: these are the
baselines the service is measured against, not part of the service.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from ib_async import IB, Contract, LimitOrder, Stock, Trade

from trading.gateway import codes

# Far below the simulated AAPL price (236.42, bounded to +-2%): every
# benchmark order rests until the simulator's `reset` cancels it.
RESTING_BUY_LIMIT = 100.00
FLOOR_A_CLIENT_ID = 901
ANCHOR_CLIENT_IDS = itertools.count(5000)
# As long as the stack's workers wait for an acknowledgement (tests.stack sets
# ORDER_ACK_TIMEOUT=5): an order the simulator dropped counts as an error.
ACK_TIMEOUT = 5.0


async def acknowledged(ib: IB, trade: Trade, timeout: float = ACK_TIMEOUT) -> int:
    """Wait until IB has acknowledged the order: its permId is known.

    The permId arrives with the first openOrder message (the service's worker
    wakes on that one too), so both openOrder and orderStatus are watched; an
    IB error for the order fails at once instead of waiting for the timeout."""
    if trade.order.permId:
        return int(trade.order.permId)
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_order(t: Trade) -> None:
        if t is trade and trade.order.permId and not done.done():
            done.set_result(int(trade.order.permId))

    def on_error(req_id: int, code: int, message: str, contract: Any = None) -> None:
        rejected = codes.meaning(code) is codes.Meaning.REJECTION  # the worker's own tables
        if req_id == trade.order.orderId and rejected and not done.done():
            done.set_exception(RuntimeError(f"IB error {code}: {message}"))

    ib.openOrderEvent += on_order
    ib.orderStatusEvent += on_order
    ib.errorEvent += on_error
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise TimeoutError(
            f"order {trade.order.orderId} not acknowledged within {timeout:g}s"
        ) from None
    finally:
        ib.openOrderEvent -= on_order
        ib.orderStatusEvent -= on_order
        ib.errorEvent -= on_error


async def qualify_aapl(ib: IB) -> Contract:
    [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    if not isinstance(contract, Contract) or not contract.conId:
        raise RuntimeError("the gateway could not qualify AAPL")
    return contract


class DirectClient:
    """Floor A: one connection, contract qualified once, orders placed directly."""

    def __init__(self, host: str, port: int, client_id: int = FLOOR_A_CLIENT_ID) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.ib = IB()
        self.contract: Contract = Stock("AAPL", "SMART", "USD")

    async def start(self) -> None:
        await self.ib.connectAsync(self.host, self.port, self.client_id, timeout=20)
        self.contract = await qualify_aapl(self.ib)

    async def place(self) -> int:
        order = LimitOrder("BUY", 1, RESTING_BUY_LIMIT, orderRef="bench-floor-a")
        return await acknowledged(self.ib, self.ib.placeOrder(self.contract, order))

    def stop(self) -> None:
        self.ib.disconnect()


async def anchor_place(host: str, port: int) -> int:
    """The guide's service: a fresh connection for every order."""
    ib = IB()
    try:
        await ib.connectAsync(host, port, next(ANCHOR_CLIENT_IDS), timeout=20)
        contract = await qualify_aapl(ib)
        order = LimitOrder("BUY", 1, RESTING_BUY_LIMIT, orderRef="bench-anchor")
        return await acknowledged(ib, ib.placeOrder(contract, order))
    finally:
        ib.disconnect()

"""The comparison points of the order benchmark, against the same simulator:

- floor A: one long-lived ib_async connection placing orders directly (what
  the service can at best approach);
- anchor: the reference guide's design, connect + qualify + place +
  disconnect for every request.

The bench deliberately talks to the gateway directly here: these are the
baselines the service is measured against, not part of the service.
"""

from __future__ import annotations

import asyncio
import itertools

from ib_async import IB, Contract, LimitOrder, Stock, Trade

# Far below the simulated AAPL price: every benchmark order rests.
RESTING_BUY_LIMIT = 100.00
ANCHOR_CLIENT_IDS = itertools.count(5000)


async def acknowledged(trade: Trade, timeout: float = 10.0) -> int:
    """Wait until IB has acknowledged the order (its permId is known)."""

    async def wait() -> int:
        while not trade.order.permId:
            await trade.statusEvent
        return int(trade.order.permId)

    return await asyncio.wait_for(wait(), timeout)


async def qualify_aapl(ib: IB) -> Contract:
    [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    if not isinstance(contract, Contract) or not contract.conId:
        raise RuntimeError("the gateway could not qualify AAPL")
    return contract


class DirectClient:
    """Floor A: one connection, contract qualified once, orders placed directly."""

    def __init__(self, host: str, port: int, client_id: int) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.ib = IB()
        self.contract: Contract = Stock("AAPL", "SMART", "USD")

    async def start(self) -> None:
        await self.ib.connectAsync(self.host, self.port, self.client_id, timeout=20)
        self.contract = await qualify_aapl(self.ib)

    async def place(self) -> int:
        order = LimitOrder("BUY", 1, RESTING_BUY_LIMIT, orderRef="bench-floor-a")
        return await acknowledged(self.ib.placeOrder(self.contract, order))

    def stop(self) -> None:
        self.ib.disconnect()


async def anchor_place(host: str, port: int) -> int:
    """The guide's service: a fresh connection for every order."""
    ib = IB()
    try:
        await ib.connectAsync(host, port, next(ANCHOR_CLIENT_IDS), timeout=20)
        contract = await qualify_aapl(ib)
        order = LimitOrder("BUY", 1, RESTING_BUY_LIMIT, orderRef="bench-anchor")
        return await acknowledged(ib.placeOrder(contract, order))
    finally:
        ib.disconnect()

"""The worker's publish loop (trading.gateway.runtime): sections changed while
the connection is being made are published once it is made (they were
dropped: /account answered 503 until IB next reported the account), and a
snapshot that fails is taken again instead of ending the loop."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from trading.gateway.runtime import PUBLISH_RETRY_S, GatewayRuntime


def _runtime(snapshot: Any) -> tuple[Any, list[dict[str, Any]]]:
    published: list[dict[str, Any]] = []
    fake = SimpleNamespace(
        changed=asyncio.Event(),
        dirty=set(),
        connection=SimpleNamespace(connected=False, account="DU1234567"),
        session=SimpleNamespace(snapshot=snapshot),
        ib=None,
        publisher=SimpleNamespace(offer=published.append),
    )
    return fake, published


def test_sections_changed_while_connecting_are_published_once_connected() -> None:
    async def scenario() -> list[dict[str, Any]]:
        fake, published = _runtime(lambda ib, account, sections: {s: account for s in sections})
        loop = asyncio.create_task(GatewayRuntime._publish_loop(fake))  # type: ignore[arg-type]
        fake.dirty.update({"account", "positions"})
        fake.changed.set()
        await asyncio.sleep(0.1)
        assert published == []  # still connecting
        fake.connection.connected = True
        await asyncio.sleep(PUBLISH_RETRY_S + 0.3)
        loop.cancel()
        return published

    assert asyncio.run(scenario()) == [{"account": "DU1234567", "positions": "DU1234567"}]


def test_a_snapshot_that_fails_is_taken_again() -> None:
    calls: list[set[str]] = []

    def snapshot(ib: Any, account: str, sections: set[str]) -> dict[str, Any]:
        calls.append(set(sections))
        if len(calls) == 1:
            raise ValueError("an account value IB has not sent yet")
        return {s: True for s in sections}

    async def scenario() -> list[dict[str, Any]]:
        fake, published = _runtime(snapshot)
        fake.connection.connected = True
        loop = asyncio.create_task(GatewayRuntime._publish_loop(fake))  # type: ignore[arg-type]
        fake.dirty.add("account")
        fake.changed.set()
        await asyncio.sleep(PUBLISH_RETRY_S + 0.3)
        loop.cancel()
        return published

    assert asyncio.run(scenario()) == [{"account": True}]
    assert calls == [{"account"}, {"account"}]

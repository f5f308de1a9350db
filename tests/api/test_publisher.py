"""The worker's mirror publisher (real Redis cache): the orders published with
an answer may overtake a full snapshot taken just before; the snapshot's other
sections must still go out (a lost positions update stays lost until the next
account event)."""

from __future__ import annotations

from django.core.cache import cache

from trading import wire
from trading.gateway.publisher import Publisher

KEYS = [wire.MIRROR_PREFIX + name for name in ("orders", "positions")] + [wire.HEARTBEAT]


def test_an_older_snapshot_loses_only_the_sections_a_newer_one_wrote() -> None:
    publisher = Publisher(heartbeat=lambda: {"connected": True, "account": "DU1"})
    try:
        publisher.write({"_seq": 2, "orders": [{"permId": 2}]})  # with an answer
        publisher.write(  # taken before it, written after it
            {"_seq": 1, "orders": [], "positions": [{"symbol": "SPY", "qty": -4}]}
        )

        values = cache.get_many(KEYS)
        assert values[wire.MIRROR_PREFIX + "orders"] == [{"permId": 2}]
        assert values[wire.MIRROR_PREFIX + "positions"] == [{"symbol": "SPY", "qty": -4}]
        assert publisher.last_full["positions"] == [{"symbol": "SPY", "qty": -4}]
    finally:
        cache.delete_many(KEYS)  # no "connected gateway" left for other tests

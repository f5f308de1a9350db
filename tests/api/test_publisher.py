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


def test_after_a_redis_outage_the_whole_state_goes_out_with_the_next_change() -> None:
    """Regression: a section offered every second (the clock's) kept the
    publisher from ever writing the whole state again after Redis lost its
    keys, so GET /account answered 503 for good."""
    market = wire.MIRROR_PREFIX + "market"
    publisher = Publisher(heartbeat=lambda: {"connected": True, "account": "DU1"})
    try:
        publisher.write({"positions": [{"symbol": "SPY", "qty": 3}]})
        cache.delete_many([*KEYS, market])  # Redis restarted empty
        publisher.failed = True  # as its last write found it down

        publisher.write({"market": {"offset": 0.0}})

        values = cache.get_many([*KEYS, market])
        assert values[wire.MIRROR_PREFIX + "positions"] == [{"symbol": "SPY", "qty": 3}]
        assert values[market] == {"offset": 0.0}
        assert values[wire.HEARTBEAT]["connected"] is True
    finally:
        cache.delete_many([*KEYS, market])

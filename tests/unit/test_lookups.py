"""The worker's view of the market session (trading.gateway.lookups): a DAY
order IB cancels at the close reads as expired only once the gateway's clock
is past its session (the last seconds count as after it)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from trading.gateway.lookups import Lookups


async def no_clock(timeout: float) -> tuple[float, dt.datetime]:
    raise AssertionError("not asked")


def lookups_at(eastern_now: str) -> Lookups:
    """Lookups whose gateway clock reads ``eastern_now`` (2026-12-02, ET)."""
    lookups = Lookups(ib=None, ready=lambda: True, publish=lambda _: None, current_time=no_clock)  # type: ignore[arg-type]
    gateway = dt.datetime.fromisoformat(f"2026-12-02T{eastern_now}-05:00").timestamp()
    offset = gateway - time.time()
    lookups.offset.low = lookups.offset.high = offset
    lookups.hours = {
        "liquid": {"2026-12-02": [["2026-12-02T09:30:00-05:00", "2026-12-02T16:00:00-05:00"]]},
        "trading": {"2026-12-02": [["2026-12-02T04:00:00-05:00", "2026-12-02T20:00:00-05:00"]]},
    }
    return lookups


@pytest.mark.parametrize(
    ("now", "regular", "extended"),
    [
        ("10:00:00", True, True),
        ("15:59:50", True, True),
        ("15:59:59", False, True),  # within the last seconds: after it
        ("16:00:01", False, True),
        ("20:00:05", False, False),
        ("03:00:00", False, False),
    ],
)
def test_in_session_by_the_gateways_hours(now: str, regular: bool, extended: bool) -> None:
    lookups = lookups_at(now)

    assert lookups.in_session(outside_rth=False) is regular
    assert lookups.in_session(outside_rth=True) is extended


def test_unknown_hours_are_no_answer() -> None:
    lookups = Lookups(ib=None, ready=lambda: True, publish=lambda _: None, current_time=no_clock)  # type: ignore[arg-type]

    assert lookups.in_session(outside_rth=False) is None

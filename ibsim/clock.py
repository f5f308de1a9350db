"""The simulator's clock: what time it is for the gateway, and which session
of the market (ibsim.sessions) is in force.

Two modes, chosen at start (`--clock`):

- `open` (the default, for `make run`, the tests and the bench): the wall
  clock's time, with the market in its regular session whatever the hour, day
  or holiday — it never closes unless the clock is moved — so a demo behaves
  the same at any hour.
- `wall`: the wall clock's time and the real calendar, as a gateway sees them.

Moving the clock (`set`: jump to a time; `advance`: move forward) puts it on
the calendar in either mode; it then runs in real time from where it was put.
`reset` puts it back as it started.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from ibsim import sessions

OPEN = "open"
WALL = "wall"
MODES = (OPEN, WALL)


class Clock:
    def __init__(self, mode: str = OPEN, wall: Callable[[], float] = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.wall = wall
        self.offset = 0.0  # seconds added to the wall clock
        self.moved = False

    @property
    def calendar(self) -> bool:
        """Whether the sessions follow the calendar (else: always regular)."""
        return self.mode == WALL or self.moved

    def timestamp(self) -> float:
        return self.wall() + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    def session(self, at: dt.datetime | None = None) -> str:
        if not self.calendar:
            return sessions.REGULAR
        return sessions.session_at(at or self.now())

    def set(self, when: dt.datetime) -> None:
        """Jump to `when` (aware); the clock runs on in real time from there."""
        self.offset = when.timestamp() - self.wall()
        self.moved = True

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError("seconds must be zero or more (the clock only moves forward)")
        self.offset += seconds
        self.moved = True

    def reset(self) -> None:
        self.offset = 0.0
        self.moved = False

    def describe(self, at: dt.datetime | None = None) -> dict[str, Any]:
        """What the `clock` command answers: the time in US/Eastern, the
        session, and the next regular open and close (none while the market
        never closes)."""
        now = at or self.now()
        return {
            "now": iso_eastern(now),
            "session": self.session(now),
            "next_open": iso_eastern(sessions.next_open(now)) if self.calendar else None,
            "next_close": iso_eastern(sessions.next_close(now)) if self.calendar else None,
            "mode": self.mode,
            "moved": self.moved,
        }


def iso_eastern(when: dt.datetime) -> str:
    """ISO 8601 in US/Eastern, to the second (what the clock commands show)."""
    return when.astimezone(sessions.EASTERN).isoformat(timespec="seconds")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; without an offset it is read in US/Eastern."""
    try:
        when = dt.datetime.fromisoformat(str(text).strip())
    except ValueError as exc:
        raise ValueError(
            f"time must be ISO 8601 (2026-03-04T09:30:00-05:00), not {text!r}"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=sessions.EASTERN)
    return when

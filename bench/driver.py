"""A small asyncio load driver: run an async operation COUNT times with
CONCURRENCY workers (or for a fixed duration) and record each latency."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    name: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    # When each successful operation finished, in seconds after the start.
    finished_s: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def percentile(self, pct: float) -> float | None:
        """Nearest-rank percentile of the successful operations."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
        return ordered[rank]

    def extend(self, other: Sample) -> None:
        """Append another run of the same operation (interleaved measurements)."""
        offset = self.elapsed_s
        self.latencies_ms += other.latencies_ms
        self.finished_s += [offset + t for t in other.finished_s]
        self.errors += other.errors
        self.error_examples += other.error_examples[: max(0, 3 - len(self.error_examples))]
        self.elapsed_s += other.elapsed_s

    def windows(self, width_s: float) -> list[float]:
        """Completions per second in consecutive windows of ``width_s``."""
        if not self.finished_s or width_s <= 0:
            return []
        count = max(1, int(self.elapsed_s // width_s))
        buckets = [0] * count
        for t in self.finished_s:
            buckets[min(count - 1, int(t // width_s))] += 1
        return [round(b / width_s, 1) for b in buckets]

    def summary(self) -> dict[str, Any]:
        ok = len(self.latencies_ms)

        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": ok + self.errors,
            "errors": self.errors,
            "error_examples": self.error_examples[:3],
            "p50_ms": r(self.percentile(50)),
            "p95_ms": r(self.percentile(95)),
            "p99_ms": r(self.percentile(99)),
            "min_ms": r(min(self.latencies_ms)) if ok else None,
            "max_ms": r(max(self.latencies_ms)) if ok else None,
            "mean_ms": r(statistics.fmean(self.latencies_ms)) if ok else None,
            "per_second": r(ok / self.elapsed_s) if self.elapsed_s else None,
            "elapsed_s": r(self.elapsed_s),
        }


Operation = Callable[[], Awaitable[Any]]


async def measure(
    name: str,
    operation: Operation,
    *,
    count: int | None = None,
    duration_s: float | None = None,
    concurrency: int = 1,
    warmup: int = 0,
    interval_s: float = 0.0,
) -> Sample:
    """Run ``operation`` ``count`` times (or until ``duration_s`` has passed)
    with ``concurrency`` workers; ``warmup`` runs before, one at a time, are
    not recorded (a failing warm-up raises: the setup is broken).  With
    ``interval_s`` each worker starts an operation at most every
    ``interval_s`` seconds (a client placing orders at a given pace rather
    than back to back); the wait is not part of the latency."""
    if (count is None) == (duration_s is None):
        raise ValueError("give exactly one of count and duration_s")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    for _ in range(warmup):
        await operation()
    sample = Sample(name=name, concurrency=concurrency)
    remaining = count
    started = time.perf_counter()
    deadline = started + duration_s if duration_s is not None else None

    def more() -> bool:
        nonlocal remaining
        if deadline is not None:
            return time.perf_counter() < deadline
        assert remaining is not None
        if remaining <= 0:
            return False
        remaining -= 1
        return True

    async def worker() -> None:
        next_start = time.perf_counter()
        while more():
            pause = next_start - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            t0 = time.perf_counter()
            next_start = t0 + interval_s
            try:
                await operation()
            except Exception as exc:  # a failed request is counted, not fatal
                sample.errors += 1
                if len(sample.error_examples) < 3:
                    sample.error_examples.append(f"{type(exc).__name__}: {exc}"[:300])
            else:
                t1 = time.perf_counter()
                sample.latencies_ms.append((t1 - t0) * 1000)
                sample.finished_s.append(t1 - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed_s = time.perf_counter() - started
    return sample

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
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def percentile(self, pct: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
        return ordered[rank]

    def summary(self) -> dict[str, Any]:
        ok = len(self.latencies_ms)
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "requests": ok + self.errors,
            "errors": self.errors,
            "error_examples": self.error_examples[:3],
            "p50_ms": self.percentile(50),
            "p95_ms": self.percentile(95),
            "p99_ms": self.percentile(99),
            "mean_ms": statistics.fmean(self.latencies_ms) if ok else None,
            "per_second": ok / self.elapsed_s if self.elapsed_s else None,
            "elapsed_s": self.elapsed_s,
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
) -> Sample:
    """Run ``operation`` ``count`` times (or until ``duration_s`` has passed)."""
    if (count is None) == (duration_s is None):
        raise ValueError("give exactly one of count and duration_s")
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
        while more():
            t0 = time.perf_counter()
            try:
                await operation()
            except Exception as exc:  # a failed request is counted, not fatal
                sample.errors += 1
                if len(sample.error_examples) < 3:
                    sample.error_examples.append(f"{type(exc).__name__}: {exc}")
            else:
                sample.latencies_ms.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    sample.elapsed_s = time.perf_counter() - started
    return sample

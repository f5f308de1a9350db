"""The worker's end of the order bus (trading/bus.py) on Redis, on the gateway
loop itself: no thread between Redis and IB.

A task pops requests off the bus list (``BRPOP`` on an asyncio Redis
connection) and starts each at once, at most ``MAX_IN_FLIGHT`` at a time (the
rest wait in Redis, where their deadline still drops them unsent).  One writer
task publishes the working orders to the mirror and then, in the same
pipeline, answers every request finished meanwhile and removes their order
intents: a client reading /orders after its answer sees its order (and one
reading /v2/orders/{id} an order that filled at once: the orders that just
finished go with the working ones, trading.gateway.session).  It makes
one write at a time, each with the orders as they are when it starts, so the
mirror never goes back to an older list; the same writer publishes the orders
when only they changed (other clients' orders, fills, cancels: a burst of
events once it has settled) and every ``REPUBLISH_EVERY`` seconds (a
restarted Redis gets them back).

Until the first profile of the order path on PostgreSQL (docs/benchmarks.md)
a thread popped the requests and another answered them: two thread hand-offs
and a lock shared with the mirror's publisher thread, about 1.5 ms of every
order on two busy cores."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import redis
from django.core.cache import cache

from trading import wire
from trading.gateway.intents import RedisIntents
from trading.wire import Outcome

log = logging.getLogger("trading.gateway")

MAX_IN_FLIGHT = 32
POP_TIMEOUT = 1.0  # seconds a pop blocks before the task looks at `running` again
SETTLE = 0.02  # seconds a burst of order events may take before the orders are published
REPUBLISH_EVERY = 10.0  # seconds between publishes of unchanged orders

Answer = tuple[dict[str, Any], Outcome]
Serve = Callable[[str, dict[str, Any], float], Awaitable[Outcome]]


class Intake:
    """``serve`` runs one request (on the loop); ``orders`` gives the mirror's
    sections of orders to publish now (the working orders' rows, and the
    orders that just finished when they changed); ``finished`` learns which requests have
    been answered.  Runs on the gateway loop: ``run()`` is its task."""

    def __init__(
        self,
        *,
        serve: Serve,
        orders: Callable[[], dict[str, Any]],
        finished: Callable[[list[int]], None],
    ) -> None:
        self.serve = serve
        self.orders = orders
        self.finished = finished
        self.running = True
        self._answers: list[Answer] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._wake = asyncio.Event()  # something to write: answers or changed orders
        self._answer_ready = asyncio.Event()

    @property
    def busy(self) -> bool:
        """Requests being served or waiting for their answer to go out (read
        from other threads: a hint, not a lock)."""
        return bool(self._tasks or self._answers)

    def orders_changed(self) -> None:
        """From the gateway loop: the working orders changed."""
        self._wake.set()

    async def run(self) -> None:
        writer = asyncio.create_task(self._write_loop())
        try:
            await self._consume()
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    # --- taking requests ---------------------------------------------------------------

    async def _consume(self) -> None:
        key = wire.requests_key()
        backoff = 0.1
        while self.running:
            await self._slots.acquire()
            try:
                item = await wire.async_client().brpop([key], timeout=POP_TIMEOUT)
            except (redis.RedisError, OSError) as exc:
                self._slots.release()
                log.warning("order bus: Redis unreachable (%s); retry in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.1
            request = self._parse(item[1]) if item is not None else None
            if request is None:
                self._slots.release()
                continue
            task = asyncio.create_task(self._serve(request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _parse(raw: bytes | str) -> dict[str, Any] | None:
        try:
            request = json.loads(raw)
            valid = (
                request["op"] in wire.OPERATIONS
                and isinstance(request["args"], dict)
                and isinstance(request["deadline"], int | float)
                and str(request["reply"]).startswith(wire.reply_prefix())
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            log.error("order bus: dropped a malformed request: %r", raw[:300])
            return None
        return dict(request)

    async def _serve(self, request: dict[str, Any]) -> None:
        try:
            outcome = await self.serve(request["op"], request["args"], request["deadline"])
        except BaseException:  # cancelled at shutdown: the client times out
            self._slots.release()
            raise
        self._answers.append((request, outcome))
        self._answer_ready.set()
        self._wake.set()

    # --- answering -----------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), REPUBLISH_EVERY)
            if not self._answers:
                # Only the orders changed: let the burst of events settle
                # (an answer arriving meanwhile goes out at once).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._answer_ready.wait(), SETTLE)
            self._wake.clear()
            self._answer_ready.clear()
            answers, self._answers = self._answers, []
            try:
                await self._write(answers)
            finally:
                for _ in answers:
                    self._slots.release()

    async def _write(self, answers: list[Answer]) -> None:
        request_ids = [
            request["args"]["request_id"]
            for request, _ in answers
            if request["op"] == "place" and request["args"].get("request_id") is not None
        ]
        for attempt in range(3):
            try:
                # The working orders first, the answers after, in one round trip.
                await self._pipeline(answers, request_ids)
                break
            except Exception:
                # The clients time out (504: "check GET /orders"); the intents
                # stay and are reconciled like a dead worker's.
                log.warning("order bus: could not answer %d requests", len(answers), exc_info=True)
                await asyncio.sleep(0.1 * (attempt + 1))
        if request_ids:
            self.finished(request_ids)

    async def _pipeline(self, answers: list[Answer], request_ids: list[int]) -> None:
        sections = {wire.MIRROR_PREFIX + name: rows for name, rows in self.orders().items()}
        pipe = wire.async_client().pipeline(transaction=False)
        if wire.cache_is_bus_redis():
            # What Django's RedisCache would write: its key, a pickle (it stores
            # only ints raw), the TTL; cache.get_many() reads it as usual.
            for key, rows in sections.items():
                data = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
                pipe.set(wire.mirror_key(key), data, ex=wire.MIRROR_TTL)
        else:  # another cache: written first, through Django
            await asyncio.to_thread(cache.set_many, sections, wire.MIRROR_TTL)
        for request, outcome in answers:
            pipe.lpush(request["reply"], json.dumps(outcome))
            pipe.expire(request["reply"], wire.REPLY_TTL)
        RedisIntents.forget(pipe, request_ids)
        await pipe.execute()

"""The worker's end of the order bus (trading/bus.py) on Redis.

A consumer thread pops requests off the bus list and starts each on the
gateway loop at once (no thread pool in between, at most ``MAX_IN_FLIGHT`` at
a time: the rest wait in Redis, where their deadline still drops them unsent).
When requests finish, the loop takes one snapshot of the working orders for
all of them, and a replier thread publishes it to the mirror and then, in one
pipeline, answers every request and removes its order intent: a client
reading /orders after its answer sees its order."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from typing import Any

import redis

from trading import bus
from trading.gateway.intents import RedisIntents
from trading.gateway.runtime import GatewayRuntime, Outcome

log = logging.getLogger("trading.gateway")

MAX_IN_FLIGHT = 32
POP_TIMEOUT = 1.0  # seconds a pop blocks before the thread looks at `running` again

Answer = tuple[dict[str, Any], Outcome]


class Intake:
    def __init__(self, runtime: GatewayRuntime) -> None:
        self.runtime = runtime
        self.slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self.running = True
        self.answers: queue.Queue[tuple[dict[str, Any], list[Answer]] | None] = queue.Queue()
        self._finished: list[Answer] = []  # on the loop: answered, not yet handed over
        self._flush_scheduled = False
        self.consumer = threading.Thread(target=self._consume, name="bus-intake", daemon=True)
        self.replier = threading.Thread(target=self._reply, name="bus-replier", daemon=True)

    def start(self) -> None:
        self.replier.start()
        self.consumer.start()

    def stop(self) -> None:
        self.running = False
        self.consumer.join(POP_TIMEOUT + 1)
        self.answers.put(None)
        self.replier.join(5)

    # --- taking requests (consumer thread) ---------------------------------

    def _consume(self) -> None:
        key = bus.requests_key()
        backoff = 0.1
        while self.running:
            self.slots.acquire()
            try:
                item = bus.client().brpop([key], timeout=POP_TIMEOUT)
            except (redis.RedisError, OSError) as exc:
                self.slots.release()
                log.warning("order bus: Redis unreachable (%s); retrying in %.1fs", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.1
            if item is None:
                self.slots.release()
                continue
            request = self._parse(item[1])
            if request is None:
                self.slots.release()
                continue
            asyncio.run_coroutine_threadsafe(self._serve(request), self.runtime.loop)

    @staticmethod
    def _parse(raw: bytes | str) -> dict[str, Any] | None:
        try:
            request = json.loads(raw)
            valid = (
                request["op"] in bus.OPERATIONS
                and isinstance(request["args"], dict)
                and isinstance(request["deadline"], int | float)
                and str(request["reply"]).startswith(bus.reply_prefix())
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            log.error("order bus: dropped a malformed request: %r", raw[:300])
            return None
        return dict(request)

    # --- serving (gateway loop) ------------------------------------------------

    async def _serve(self, request: dict[str, Any]) -> None:
        try:
            outcome = await self.runtime.serve(request["op"], request["args"], request["deadline"])
        except BaseException:  # cancelled at shutdown: the client times out
            self.slots.release()
            raise
        self._finished.append((request, outcome))
        if not self._flush_scheduled:
            # Everything that finishes in this turn of the loop shares one
            # snapshot of the orders and one round trip to Redis.
            self._flush_scheduled = True
            self.runtime.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        finished, self._finished = self._finished, []
        self.answers.put((self.runtime.orders_snapshot(), finished))

    # --- answering (replier thread) ----------------------------------------------

    def _reply(self) -> None:
        while True:
            item = self.answers.get()
            if item is None:
                return
            snapshot, answers = item
            while True:  # whatever else is ready goes out with it, with the newest orders
                try:
                    more = self.answers.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.answers.put(None)
                    break
                snapshot, answers = more[0], answers + more[1]
            try:
                self._answer(snapshot, answers)
            finally:
                for _ in answers:
                    self.slots.release()

    def _answer(self, snapshot: dict[str, Any], answers: list[Answer]) -> None:
        request_ids = [
            request["args"].get("request_id")
            for request, _ in answers
            if request["op"] == "place" and request["args"].get("request_id") is not None
        ]
        replies = [(request["reply"], json.dumps(outcome)) for request, outcome in answers]

        def answer(pipe: Any) -> None:
            for key, value in replies:
                pipe.lpush(key, value)
                pipe.expire(key, bus.REPLY_TTL)
            RedisIntents.forget(pipe, request_ids)

        for attempt in range(3):
            try:
                # The working orders first, the answers after, in one round trip.
                self.runtime.publisher.write(snapshot, also=answer)
                break
            except Exception:
                # The clients time out (504: "check GET /orders"); the intents
                # stay and are reconciled like a dead worker's.
                log.warning("order bus: could not answer %d requests", len(answers), exc_info=True)
                time.sleep(0.1 * (attempt + 1))
        for request_id in request_ids:
            self.runtime.in_flight.discard(request_id)


_intake: Intake | None = None


def start(runtime: GatewayRuntime) -> None:
    global _intake
    if _intake is None and bus.uses_redis():
        _intake = Intake(runtime)
        _intake.start()


def stop() -> None:
    global _intake
    if _intake is not None:
        _intake.stop()
        _intake = None

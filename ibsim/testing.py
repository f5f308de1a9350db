"""Start a simulator in a background thread (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ibsim.control import Controller
from ibsim.server import Simulator


class RunningSimulator:
    def __init__(self, **config: Any) -> None:
        self.config = {"port": 0, "walk": False, **config}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ibsim", daemon=True)
        self.sim: Simulator | None = None
        self.controller: Controller | None = None
        self.host = str(self.config.get("host", "127.0.0.1"))
        self.port = 0
        self.control_port = 0

    def start(self) -> RunningSimulator:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        self.sim = Simulator(**self.config)
        await self.sim.start()
        self.controller = Controller(self.sim)
        self.port = self.sim.port
        self.control_port = await self.controller.listen(self.host, 0)

    def call(self, cmd: str, **args: Any) -> Any:
        """Run a control command (see ibsim.control) and return its result."""
        assert self.controller is not None
        future = asyncio.run_coroutine_threadsafe(self.controller.call(cmd, **args), self.loop)
        return future.result(10)

    def stop(self) -> None:
        async def _stop() -> None:
            assert self.sim is not None
            assert self.controller is not None
            await self.controller.close()
            await self.sim.stop()

        asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def run_in_thread(**config: Any) -> RunningSimulator:
    return RunningSimulator(**config).start()

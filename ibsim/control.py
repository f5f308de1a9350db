"""The control API: the same commands in-process (`Controller.call`) and from
another process over a JSON-lines socket (`ControlClient`, `python -m ibsim.ctl`).

Request: ``{"cmd": "set_price", "args": {"symbol": "AAPL", "price": 231.5}}``
Answer:  ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import asdict
from typing import Any

from ibsim.server import Simulator


class CommandError(Exception):
    pass


class Controller:
    """Runs control commands against a simulator, on its event loop."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.server: asyncio.Server | None = None
        self.port = 0

    async def call(self, cmd: str, **args: Any) -> Any:
        method = getattr(self, f"cmd_{cmd}", None)
        if method is None:
            raise CommandError(f"unknown command {cmd!r}")
        try:
            result = method(**args)
            if asyncio.iscoroutine(result):
                result = await result
        except TypeError as exc:
            raise CommandError(f"{cmd}: {exc}") from exc
        except (KeyError, ValueError) as exc:
            raise CommandError(str(exc.args[0] if exc.args else exc)) from exc
        return result

    # --- market -----------------------------------------------------------

    def cmd_set_price(self, symbol: str, price: float) -> float:
        self.sim.dispatch(self.sim.book.set_price(symbol, float(price)))
        held = {s for s, _ in self.sim.book.position_rows()}
        if symbol.upper() in held:
            self.sim.push_account([symbol.upper()])
        return self.sim.book.prices[symbol.upper()]

    def cmd_get_price(self, symbol: str) -> float:
        return self.sim.book.prices[self.sim.book._symbol(symbol)]

    def cmd_prices(self) -> dict[str, float]:
        return dict(self.sim.book.prices)

    def cmd_walk(self, on: bool) -> bool:
        self.sim.walk_enabled = bool(on)
        return self.sim.walk_enabled

    # --- account ----------------------------------------------------------

    def cmd_set_cash(self, cash: float) -> float:
        self.sim.book.set_cash(cash)
        self.sim.push_account([])
        return self.sim.book.cash

    def cmd_set_position(self, symbol: str, quantity: float, avg_cost: float) -> None:
        self.sim.book.set_position(symbol, quantity, avg_cost)
        self.sim.push_account([symbol.upper()])

    def cmd_account(self) -> dict[str, str]:
        return {key: value for key, value, _ in self.sim.book.account_values()}

    def cmd_positions(self) -> dict[str, dict[str, float]]:
        return {s: asdict(pos) for s, pos in self.sim.book.position_rows()}

    def cmd_orders(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in self.sim.book.orders.values()]

    def cmd_executions(self) -> list[dict[str, Any]]:
        out = []
        for e in self.sim.book.executions:
            row = asdict(e)
            row["when"] = e.when.isoformat()
            out.append(row)
        return out

    def cmd_counters(self) -> dict[str, Any]:
        return self.sim.counters()

    # --- faults -----------------------------------------------------------

    def cmd_drop_connections(self) -> int:
        return self.sim.drop_connections()

    async def cmd_refuse_connections(self, seconds: float) -> None:
        await self.sim.refuse_connections(float(seconds))

    async def cmd_restart(self, downtime: float = 1.0) -> None:
        await self.sim.restart(float(downtime))

    def cmd_connectivity(self, code: int) -> None:
        self.sim.connectivity(int(code))

    def cmd_set_delay(self, ms: float) -> float:
        self.sim.delay_s = max(float(ms), 0.0) / 1000.0
        return self.sim.delay_s * 1000.0

    def cmd_freeze(self, on: bool) -> bool:
        self.sim.freeze(bool(on))
        return bool(on)

    def cmd_reject_next_order(self, reason: str = "Simulated rejection") -> None:
        self.sim.book.reject_next = reason

    def cmd_correct_execution(self, exec_id: str | None = None, price: float | None = None) -> str:
        return self.sim.correct_execution(exec_id, price)

    def cmd_reset(self) -> dict[str, Any]:
        """Cancel every working order and put prices back at their start values
        (positions, cash and executions stay: they are history)."""
        book = self.sim.book
        self.sim.dispatch(book.cancel_all())
        book.prices = dict(book.start_prices)
        return {"prices": dict(book.prices)}

    def cmd_ping(self) -> str:
        return "pong"

    # --- the socket ----------------------------------------------------------

    async def listen(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    result = await self.call(request["cmd"], **(request.get("args") or {}))
                    answer: dict[str, Any] = {"ok": True, "result": result}
                except (CommandError, json.JSONDecodeError, KeyError) as exc:
                    answer = {"ok": False, "error": str(exc)}
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


class ControlClient:
    """Blocking client of the control port, for tests, the CLI and benchmarks."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4013, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def call(self, cmd: str, **args: Any) -> Any:
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        answer = json.loads(data)
        if not answer["ok"]:
            raise CommandError(answer["error"])
        return answer["result"]

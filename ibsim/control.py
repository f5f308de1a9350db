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

from ibsim import order_warnings
from ibsim.clock import iso_eastern, parse_time
from ibsim.server import Simulator

MAX_ADVANCE = 366 * 86400.0


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
        """A trade prints at `price`; the bid and ask follow (spread rule)."""
        self.sim.dispatch(self.sim.book.set_price(symbol, float(price)))
        self._push_if_held(symbol)
        return self.sim.book.prices[symbol.upper()]

    def cmd_get_price(self, symbol: str) -> float:
        return self.sim.book.prices[self.sim.book._symbol(symbol)]

    def cmd_prices(self) -> dict[str, float]:
        return dict(self.sim.book.prices)

    def cmd_quote(self, symbol: str) -> dict[str, Any]:
        """The quote, and `liquidity`: the shares of each price level behind
        it (null: the default depth, ibsim.depth)."""
        key = self.sim.book._symbol(symbol)
        quotes = self.sim.book.quotes
        return {**asdict(quotes[key]), "liquidity": quotes.liquidity.get(key)}

    def cmd_set_liquidity(self, symbol: str, shares: int | None = None) -> dict[str, Any]:
        """Each price level of the symbol holds `shares` (the quote shows that
        size); without `shares`, the default depth again.  Orders that can
        take more now match at once."""
        if shares is not None and (isinstance(shares, bool) or int(shares) != float(shares)):
            raise ValueError("shares must be a positive whole number")
        events = self.sim.book.set_liquidity(symbol, None if shares is None else int(shares))
        self.sim.dispatch(events)
        self._push_if_held(symbol)
        return self.cmd_quote(symbol)

    def cmd_set_quote(
        self,
        symbol: str,
        bid: float,
        ask: float,
        last: float | None = None,
        bid_size: int | None = None,
        ask_size: int | None = None,
    ) -> dict[str, Any]:
        """An explicit bid and ask (and sizes; with `last`, a trade there);
        orders match against it at once."""
        events = self.sim.book.set_quote(
            symbol,
            bid=float(bid),
            ask=float(ask),
            last=None if last is None else float(last),
            bid_size=None if bid_size is None else int(bid_size),
            ask_size=None if ask_size is None else int(ask_size),
        )
        self.sim.dispatch(events)
        self._push_if_held(symbol)
        return self.cmd_quote(symbol)

    def cmd_market_data(
        self, live: bool | None = None, delay: float | None = None
    ) -> dict[str, Any]:
        """The account's live data permissions (without them: delayed data for
        market data type 3/4, error 10089 for 1/2) and the delay of delayed data."""
        if live is not None:
            self.sim.feed.live = _flag(live)
        if delay is not None:
            if float(delay) < 0:
                raise ValueError("delay must be zero or more seconds")
            self.sim.book.quotes.delay = float(delay)
        return {
            "live": self.sim.feed.live,
            "delay": self.sim.book.quotes.delay,
            "lines": self.sim.feed.lines(),
        }

    def _push_if_held(self, symbol: str) -> None:
        held = {s for s, _ in self.sim.book.position_rows()}
        if symbol.upper() in held:
            self.sim.accounts.push([symbol.upper()])

    def cmd_walk(self, on: bool) -> bool:
        self.sim.walk_enabled = bool(on)
        return self.sim.walk_enabled

    # --- the clock ----------------------------------------------------------

    def cmd_clock(self) -> dict[str, Any]:
        """The simulated time (US/Eastern), the session, the next regular open
        and close (none while the open clock keeps the market open), the mode."""
        self.sim.catch_up()
        return self.sim.book.clock.describe()

    def cmd_set_clock(self, time: str) -> dict[str, Any]:
        """Jump to `time` (ISO 8601; no offset: US/Eastern) and run on in real
        time from there.  No session event fires on the way (no auction), but
        orders whose time has run out by then are cancelled, and the session
        there applies to every order."""
        when = parse_time(time)
        self.sim.catch_up()
        self.sim.book.clock.set(when)
        self.sim.dispatch(self.sim.book.jump())
        return self.sim.book.clock.describe()

    def cmd_advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward, firing every session event on the way at its
        own time (pre-market, the opening auction, DAY expiry at the close,
        after-hours end; GTD and OPG expiries); `events` lists them."""
        seconds = float(seconds)
        if seconds > MAX_ADVANCE:
            raise ValueError(f"seconds must be at most {MAX_ADVANCE:.0f} (a year)")
        book = self.sim.book
        self.sim.catch_up()
        first = len(book.fired)
        book.clock.advance(seconds)
        self.sim.catch_up()
        fired = [{"at": iso_eastern(at), "event": event} for at, event in book.fired[first:]]
        return {**book.clock.describe(), "events": fired}

    # --- account ----------------------------------------------------------

    def cmd_set_cash(self, cash: float) -> float:
        self.sim.book.set_cash(cash)
        self.sim.accounts.push([])
        return self.sim.book.cash

    def cmd_set_position(self, symbol: str, quantity: float, avg_cost: float) -> None:
        self.sim.book.set_position(symbol, quantity, avg_cost)
        self.sim.accounts.push([symbol.upper()])

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

    def cmd_warn_next_order(self, code: int) -> int:
        """The next new order accepted (from any client) draws warning `code`
        with IB's wording, and is otherwise processed as usual."""
        self.sim.book.warn_next = order_warnings.check_code(code)
        return self.sim.book.warn_next

    def cmd_correct_execution(self, exec_id: str | None = None, price: float | None = None) -> str:
        return self.sim.correct_execution(exec_id, price)

    def cmd_reset(self) -> dict[str, Any]:
        """Cancel every working order, drop a pending warn_next_order, put the
        clock back as it started and prices back at their start values
        (positions, cash and executions stay: they are history)."""
        book = self.sim.book
        self.sim.dispatch(book.cancel_all())
        book.warn_next = None
        book.clock.reset()
        self.sim.dispatch(book.jump())
        self.sim.dispatch(book.reset_prices())
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


def _flag(value: object) -> bool:
    """A boolean argument, also as the CLI passes it ("false", "0", "off")."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)

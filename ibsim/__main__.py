"""`python -m ibsim`: run the simulated gateway until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from ibsim.clock import MODES, OPEN
from ibsim.control import Controller
from ibsim.server import Simulator

REAL_GATEWAY_PORTS = (4001, 4002, 7496, 7497)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ibsim", description="Simulated IB Gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4012, help="API port (default 4012)")
    parser.add_argument("--control-port", type=int, default=4013)
    parser.add_argument("--account", default="DU1234567")
    parser.add_argument("--cash", type=float, default=1_000_000.0)
    parser.add_argument("--state-dir", default=None, help="keep permIds, cash, positions, GTC")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between price steps")
    parser.add_argument("--no-walk", action="store_true", help="prices move only when set")
    parser.add_argument(
        "--clock",
        choices=MODES,
        default=OPEN,
        help="open: the market is always open (default); wall: the real time and calendar",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    if args.port in REAL_GATEWAY_PORTS:
        parser.error(f"port {args.port} is a real gateway's port; pick another")
    return args


async def serve(args: argparse.Namespace) -> None:
    sim = Simulator(
        host=args.host,
        port=args.port,
        account=args.account,
        cash=args.cash,
        state_dir=args.state_dir,
        seed=args.seed,
        walk=not args.no_walk,
        tick_interval=args.tick,
        clock=args.clock,
    )
    await sim.start()
    control = Controller(sim)
    await control.listen(args.host, args.control_port)
    print(f"ibsim ready api={args.host}:{sim.port} control={args.host}:{control.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await control.close()
    await sim.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s ibsim %(levelname)s %(message)s")
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()

"""`python -m ibsim.ctl [--port 4013] CMD [key=value ...]`: drive a running
simulator from the shell, e.g. `python -m ibsim.ctl set_price symbol=AAPL price=229`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ibsim.control import CommandError, ControlClient


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ibsim.ctl")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4013)
    parser.add_argument("cmd")
    parser.add_argument(
        "args", nargs="*", help="key=value (values parsed as JSON when they can be)"
    )
    ns = parser.parse_args(argv)
    kwargs = {}
    for item in ns.args:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"expected key=value, got {item!r}")
        kwargs[key] = _value(value)
    try:
        result = ControlClient(ns.host, ns.port).call(ns.cmd, **kwargs)
    except CommandError as exc:
        print(f"error: {exc}")
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

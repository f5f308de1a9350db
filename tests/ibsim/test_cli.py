"""The command-line tools: `python -m ibsim.ctl` and `python -m ibsim`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ibsim.testing import RunningSimulator

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_ctl_prices_and_set_price(sim: RunningSimulator) -> None:
    port = str(sim.control_port)
    result = _run("-m", "ibsim.ctl", "--port", port, "prices")
    assert result.returncode == 0, result.stderr
    prices = json.loads(result.stdout)
    assert len(prices) >= 20
    assert prices["AAPL"] == 236.42
    result = _run("-m", "ibsim.ctl", "--port", port, "set_price", "symbol=AAPL", "price=229.5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == 229.5
    assert sim.call("get_price", symbol="AAPL") == 229.5


def test_ctl_reports_command_errors(sim: RunningSimulator) -> None:
    result = _run("-m", "ibsim.ctl", "--port", str(sim.control_port), "get_price", "symbol=NOPE")
    assert result.returncode == 1
    assert "unknown symbol" in result.stdout
    result = _run("-m", "ibsim.ctl", "--port", str(sim.control_port), "no_such_command")
    assert result.returncode == 1
    assert "unknown command" in result.stdout


def test_simulator_refuses_a_real_gateway_port() -> None:
    result = _run("-m", "ibsim", "--port", "4002")
    assert result.returncode != 0
    assert "real gateway" in result.stderr


def test_ctl_warn_next_order(sim: RunningSimulator) -> None:
    port = str(sim.control_port)
    result = _run("-m", "ibsim.ctl", "--port", port, "warn_next_order", "code=10311")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == 10311
    result = _run("-m", "ibsim.ctl", "--port", port, "warn_next_order", "code=999")
    assert result.returncode == 1
    assert "unknown warning code 999" in result.stdout


def test_ctl_set_quote_and_market_data(sim: RunningSimulator) -> None:
    port = str(sim.control_port)
    result = _run("-m", "ibsim.ctl", "--port", port, "set_quote", "symbol=KO", "bid=71", "ask=71.1")
    assert result.returncode == 0, result.stderr
    quote = json.loads(result.stdout)
    assert (quote["bid"], quote["ask"], quote["last"]) == (71.0, 71.1, 71.25)
    result = _run("-m", "ibsim.ctl", "--port", port, "market_data", "live=false", "delay=60")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"live": False, "delay": 60.0, "lines": 0}


def test_ctl_set_liquidity(sim: RunningSimulator) -> None:
    port = str(sim.control_port)
    result = _run("-m", "ibsim.ctl", "--port", port, "set_liquidity", "symbol=AAPL", "shares=100")
    assert result.returncode == 0, result.stderr
    quote = json.loads(result.stdout)
    assert (quote["liquidity"], quote["bid_size"], quote["ask_size"]) == (100, 100, 100)
    assert sim.call("quote", symbol="AAPL")["liquidity"] == 100
    result = _run("-m", "ibsim.ctl", "--port", port, "set_liquidity", "symbol=AAPL", "shares=0")
    assert result.returncode == 1
    assert "shares must be a positive whole number" in result.stdout
    result = _run("-m", "ibsim.ctl", "--port", port, "set_liquidity", "symbol=AAPL")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["liquidity"] is None

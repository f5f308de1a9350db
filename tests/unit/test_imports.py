"""The import contracts (pyproject.toml, checked by lint-imports in make lint)
name the web side's modules one by one; a new module of trading/ must be
placed on one side or the other, or it would escape them.  v2api (the /v2
dialect) is web side as a whole: held by every contract of the web side, and
above trading (which never imports it)."""

from __future__ import annotations

import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import trading

ROOT = Path(__file__).resolve().parents[2]
WORKER_SIDE = {"trading.gateway", "trading.migrations"}


def contract(contract_id: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["id"] == contract_id)


def test_every_module_of_trading_is_on_one_side_of_the_gateway_contract() -> None:
    modules = {f"trading.{info.name}" for info in pkgutil.iter_modules(trading.__path__)}
    web_side = set(contract("web-never-imports-gateway")["source_modules"])

    assert modules - WORKER_SIDE == {m for m in web_side if m.startswith("trading.")}


def test_v2api_is_held_as_web_side_by_every_contract() -> None:
    """The whole package, so a new module of v2api is held without naming it."""
    assert "v2api" in contract("web-never-imports-gateway")["source_modules"]
    assert "v2api" in contract("ib-only-in-gateway")["source_modules"]
    assert contract("trading-below-v2api")["forbidden_modules"] == ["v2api"]
    assert "v2api" in contract("journal-below-trading")["forbidden_modules"]
    assert "v2api" in contract("no-cycles")["ancestors"]


def test_every_part_of_the_gateway_is_held_below_its_root() -> None:
    import trading.gateway

    parts = {f"trading.gateway.{i.name}" for i in pkgutil.iter_modules(trading.gateway.__path__)}
    roots = {"trading.gateway.runtime", "trading.gateway.tasks"}

    assert parts - roots == set(contract("gateway-parts-below-root")["source_modules"])


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("journal/vocabulary.py", "import trading.models", "journal-below-trading"),
        ("trading/views.py", "import trading.gateway.orders", "web-never-imports-gateway"),
        ("trading/risk.py", "import ib_async", "ib-only-in-gateway"),
        ("trading/gateway/orders.py", "import trading.gateway.runtime", "gateway-parts-below-root"),
        ("trading/gateway/codes.py", "import trading.gateway.orders", "no-cycles"),
        ("v2api/views.py", "import trading.gateway.orders", "web-never-imports-gateway"),
        ("v2api/mapping.py", "import ib_async", "ib-only-in-gateway"),
        ("trading/error_handler.py", "import v2api.views", "trading-below-v2api"),
        ("journal/models.py", "import v2api.ids", "journal-below-trading"),
        ("v2api/ids.py", "import v2api.mapping", "no-cycles"),
    ],
)
def test_lint_imports_fails_on_a_forbidden_import(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    """make lint's import-linter catches each kind of forbidden import (a copy
    of the code with one import added; the real tree passes, see make lint)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(f"{line}  # noqa\n{target.read_text()}")

    run = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "400"},
        capture_output=True,
        text=True,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    names = {
        c["id"]: c["name"]
        for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
            "contracts"
        ]
    }
    verdicts = dict(re.findall(r"^(.+?) (KEPT|BROKEN)\b", run.stdout, re.MULTILINE))
    assert verdicts[names[broken]] == "BROKEN", run.stdout
    assert set(verdicts) == set(names.values())

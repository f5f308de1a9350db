"""The README's alpaca-py example, verbatim, against the stack's /v2 (the
processes `make run` starts: simulator, worker, gunicorn), with a fresh
trade token in the environment as the README says to put it there."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.stack import ROOT, Stack
from tests.v2.conftest import Key

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    after = readme[readme.index("**alpaca-py against `make run`**") :]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match[1]


def test_the_readme_alpaca_py_example_runs(api: Stack, trade_key: Key) -> None:
    env = {
        **api.env,
        "APCA_API_KEY_ID": trade_key.token.key_id,
        "APCA_API_SECRET_KEY": trade_key.secret,
        "APCA_API_BASE_URL": api.base_url,
    }

    done = subprocess.run(
        [sys.executable, "-c", readme_example()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("equity ")
    assert lines[1].endswith(" OrderStatus.NEW"), lines
    assert lines[2] == "True"
    assert "AAPL" in lines[3]

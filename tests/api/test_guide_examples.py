"""The guide's own examples, run unchanged against `make run` (scripts/run.py):
the demo stack on the guide's address, http://localhost:8000."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.stack import LOGS, ROOT, free_port

pytestmark = [pytest.mark.stack]

# The reference guide we implement, kept in the repository so the examples are
# tested exactly as published (API_GUIDE points at another copy).
GUIDE = Path(os.environ.get("API_GUIDE", ROOT / "docs" / "reference" / "api-guide.txt"))
BASE_URL = "http://localhost:8000"


def guide_block(start: str, end: str) -> str:
    text = GUIDE.read_text()
    begin = text.index(start)
    finish = text.index(end, begin) + len(end)
    return text[begin:finish]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not GUIDE.is_file():
        pytest.fail(f"the API guide is not at {GUIDE} (set API_GUIDE)")
    if not port_free(8000):
        pytest.fail("port 8000 is taken: the guide's examples need it (stop `make run` first)")
    workdir = tmp_path_factory.mktemp("demo")
    token = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
            "GATEWAY_QUEUE": f"gateway-demo-{token}",
            "CACHE_KEY_PREFIX": f"ibkr-demo-{token}",
            "IBSIM_PORT": str(free_port()),
            "IBSIM_CONTROL_PORT": str(free_port()),
            "IBSIM_STATE_DIR": str(workdir / "ibsim"),
            "WEB_BIND": "127.0.0.1:8000",
        }
    )
    env.pop("IB_PORT", None)
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"demo-{token}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make run exited with {proc.returncode}; see {log.name}")
            try:
                if requests.get(f"{BASE_URL}/account", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline:
                pytest.fail(f"make run's API did not come up; see {log.name}")
            time.sleep(0.5)
        yield BASE_URL
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def test_the_guides_python_example_runs_unchanged(demo: str) -> None:
    code = guide_block("import requests\nBASE_URL", "print(response.json()['status'])")

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"Balance: \$[\d,]+\.\d\d", lines[0])
    assert re.fullmatch(r"Cash: \$[\d,]+\.\d\d", lines[1])
    perm_id = re.fullmatch(r"Order placed: (\d+)", lines[2])
    assert perm_id, lines[2]
    assert re.fullmatch(r"Pending orders: [1-9]\d*", lines[3])
    assert lines[4] == f"✅ Order {perm_id[1]} cancelled"


def test_the_guides_curl_examples_run_unchanged(demo: str) -> None:
    script = guide_block(
        "# Get account\ncurl http://localhost:8000/account", '{"perm_id": 1788680597}\''
    )

    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r'"balance":[\d.]+,"cash":[\d.]+', out)
    assert re.search(r'"status":"✅ Limit order sent","permId":\d+', out)
    assert '"type":"LMT","trigger":230.0,"status":"SUBMITTED"' in out
    # The guide cancels a made-up permId: a clear 404 body, not a crash.
    assert out.rstrip().endswith('{"detail":"Order not found or already filled"}')


def test_the_guides_javascript_example_runs_unchanged(demo: str) -> None:
    code = guide_block("const axios = require('axios');", "main().catch(console.error);")

    result = subprocess.run(
        ["node", "-e", code],
        cwd=ROOT / "tests" / "js",  # axios from tests/js/node_modules (make test installs it)
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert not result.stderr, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"Balance: \$[\d,.]+", lines[0])
    assert re.fullmatch(r"Cash: \$[\d,.]+", lines[1])
    perm_id = re.fullmatch(r"Order placed: (\d+)", lines[2])
    assert perm_id, lines[2]
    assert re.fullmatch(r"Pending orders: [1-9]\d*", lines[3])
    assert lines[4] == f"✅ Order {perm_id[1]} cancelled"

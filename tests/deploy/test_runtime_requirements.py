"""`make run` and the Docker image install `requirements.txt` alone; everything
the four processes import must come from it.

Regression (issue 17): kombu 5.7.0's Redis transport imports `packaging`
without declaring it. The test suite always ran in the dev venv, where pytest
brings `packaging`, so nothing saw the worker and beat die at start-up on a
fresh clone. These tests build a venv from `requirements.txt` only (cached in
var/ under the file's hash), start the stack exactly as `make run` does
(`python -m scripts.run`: simulator, worker, beat, web under honcho) and trade
through HTTP.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"
VENVS = ROOT / "var" / "runtime-venv"
# Variables of the test venv that would let the runtime venv see its packages.
LEAKY = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
# The packages whose modules the four processes load (project code, and what
# the Procfile's commands load by name).
PROJECT_PACKAGES = ("ibkr_project", "trading", "journal", "ibsim", "scripts")

pytestmark = pytest.mark.stack


def runtime_python() -> Path:
    """A venv holding requirements.txt and nothing else, built as the Makefile
    builds `make run`'s (kept while the file and the Python are unchanged)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:16]
    venv = VENVS / digest
    python = venv / "bin" / "python"
    if (venv / ".complete").is_file():
        return python
    shutil.rmtree(VENVS, ignore_errors=True)
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True, env=env
    )
    (venv / ".complete").touch()
    return python


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def python() -> Path:
    return runtime_python()


def test_the_docker_image_installs_exactly_the_runtime_requirements() -> None:
    """The image gets the same set as the runtime venv, so what the tests below
    prove of that venv holds for the image too."""
    installs = re.findall(r"^RUN pip install (.+)$", (ROOT / "Dockerfile").read_text(), re.M)

    assert installs == ["-r requirements.txt"]


def test_every_runtime_module_imports_from_the_runtime_requirements(python: Path) -> None:
    """Every module of the project's runtime packages, and the modules the
    Procfile's commands load by name, import in a venv without dev packages."""
    script = f"""
import importlib, pkgutil, django
django.setup()
names = [
    "kombu.transport.redis", "kombu.transport.filesystem", "celery.bin.celery",
    "celery.concurrency.thread", "celery.backends.redis", "celery.backends.filesystem",
    "django_celery_beat.schedulers", "gunicorn.app.wsgiapp", "gunicorn.workers.gthread",
    "honcho.__main__", "psycopg", "whitenoise.middleware",
]
for package in {PROJECT_PACKAGES!r}:
    module = importlib.import_module(package)
    names += [info.name for info in pkgutil.walk_packages(module.__path__, package + ".")]
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}")
print("\\n".join(failed))
raise SystemExit(1 if failed else 0)
"""
    env = clean_env(DJANGO_SETTINGS_MODULE="ibkr_project.settings")

    result = subprocess.run(
        [str(python), "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def made_run(python: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """`make run` as a new user starts it (`python -m scripts.run` from the
    runtime venv), on ports, a database and a Redis namespace of its own."""
    web = f"127.0.0.1:{free_port()}"
    token = uuid.uuid4().hex[:8]
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        GATEWAY_QUEUE=f"gateway-run-{token}",
        CACHE_KEY_PREFIX=f"ibkr-run-{token}",
        WEB_BIND=web,
        IBSIM_PORT=str(free_port()),
        IBSIM_CONTROL_PORT=str(free_port()),
        IBSIM_STATE_DIR=str(tmp_path / "ibsim"),
    )
    for name in ("IB_PORT", "IB_HOST", "CELERY_BROKER_URL", "IBKR_LOCAL_DEMO"):
        env.pop(name, None)
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(python), "-m", "scripts.run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield f"http://{web}", proc, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def wait_for_account(base: str, proc: subprocess.Popen[str], log: Path) -> requests.Response:
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"make run exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            response = requests.get(f"{base}/account", timeout=5)
            if response.status_code == 200:
                return response
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"make run did not serve /account in 120 s:\n{log.read_text()[-4000:]}")


def test_make_run_from_the_runtime_requirements_serves_the_guide(
    made_run: tuple[str, subprocess.Popen[str], Path],
) -> None:
    base, proc, log = made_run
    body: dict[str, Any] = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.0}

    account = wait_for_account(base, proc, log)
    placed = requests.post(f"{base}/order/limit", json=body, timeout=30)
    orders = requests.get(f"{base}/orders", timeout=10)
    time.sleep(2)  # a process dying a moment after start-up stops honcho too

    assert {"balance", "cash"} <= set(account.json()), account.text
    assert placed.status_code == 200, placed.text
    perm_id = placed.json()["permId"]
    assert perm_id in [order["permId"] for order in orders.json()["orders"]]
    output = log.read_text()
    assert proc.poll() is None, output[-4000:]
    for process in ("ibsim", "worker", "beat", "web"):
        assert re.search(rf"{process}\.1 +\| ", output), f"{process} never started:\n{output}"
    assert "ModuleNotFoundError" not in output, output
    assert "stopped (rc=" not in output, output

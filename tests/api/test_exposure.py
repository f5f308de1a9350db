"""What must never reach a network, checked on the real servers (issue 11):
production without a real secret key refuses to start in every process; the
local demo's anonymous access is refused from the address the server really
listens on, not from a setting; queued audit outcomes survive an exit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
import requests
from django.db import connections

from tests.stack import ROOT, Stack, database_url, free_port
from trading.models import OrderRequestLog

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

NO_SECRET = "DJANGO_SECURE=1 (production) needs DJANGO_SECRET_KEY"


def env_without_secret(stack: Stack, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in stack.env.items() if k != "DJANGO_SECRET_KEY"}
    return {**env, **changes}


def run(args: list[str], env: dict[str, str], cwd: Any = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "gunicorn", "ibkr_project.wsgi", "-b", "127.0.0.1:0"],
        ["-m", "celery", "-A", "ibkr_project", "worker", "-Q", "nobody", "-P", "solo"],
        ["-m", "celery", "-A", "ibkr_project", "beat"],
        ["manage.py", "check", "--deploy"],
    ],
    ids=["web", "worker", "scheduler", "check-deploy"],
)
def test_production_without_a_secret_key_refuses_to_start(stack: Stack, command: list[str]) -> None:
    result = run([sys.executable, *command], env_without_secret(stack, DJANGO_SECURE="1"))

    assert result.returncode != 0
    assert NO_SECRET in result.stdout + result.stderr


def test_production_with_the_public_demo_key_refuses_too(stack: Stack) -> None:
    from django.conf import settings

    env = env_without_secret(
        stack, DJANGO_SECURE="1", DJANGO_SECRET_KEY=settings.INSECURE_DEV_SECRET_KEY
    )

    result = run([sys.executable, "manage.py", "check", "--deploy"], env)

    assert result.returncode != 0
    assert NO_SECRET in result.stderr


def test_the_demo_refuses_a_public_bind_whatever_the_setting_says(stack: Stack) -> None:
    """Regression: the guard read WEB_BIND, so `gunicorn -b 0.0.0.0` with the
    default setting (127.0.0.1) served anonymous requests to the network."""
    env = {**stack.env, "IBKR_LOCAL_DEMO": "1"}
    env.pop("WEB_BIND", None)

    result = run([sys.executable, "-m", "gunicorn", "ibkr_project.wsgi", "-b", "0.0.0.0:0"], env)

    assert result.returncode != 0
    assert "only allowed on a loopback address" in result.stderr


def test_a_public_bind_without_a_secret_key_is_refused(stack: Stack) -> None:
    env = env_without_secret(stack, IBKR_LOCAL_DEMO="0")

    result = run([sys.executable, "-m", "gunicorn", "ibkr_project.wsgi", "-b", "0.0.0.0:0"], env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def first_answer(url: str) -> requests.Response:
    deadline = time.time() + 30
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def test_runserver_on_a_public_address_refuses_to_start_in_the_demo(stack: Stack) -> None:
    """Regression: runserver was never guarded."""
    env = {**stack.env, "IBKR_LOCAL_DEMO": "1"}
    args = [sys.executable, "manage.py", "runserver", "0.0.0.0:0", "--noreload"]

    result = run(args, env)

    assert result.returncode != 0
    assert "only allowed on a loopback address" in result.stderr


def test_a_demo_gunicorn_started_elsewhere_on_a_public_address_answers_403(
    stack: Stack, tmp_path: Any
) -> None:
    """gunicorn started from another folder reads no gunicorn.conf.py, so it
    starts; each anonymous request is refused all the same, from the address
    the server really listens on."""
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "ibkr_project.wsgi"]
    proc = subprocess.Popen(
        [*args, "-b", f"0.0.0.0:{port}"],
        cwd=tmp_path,
        env={**stack.env, "IBKR_LOCAL_DEMO": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.procs["gunicorn-elsewhere"] = proc
    try:
        response = first_answer(f"http://127.0.0.1:{port}/account")

        assert response.status_code == 403
        assert "serves anonymous requests only on a loopback address" in response.json()["detail"]
    finally:
        stack.stop_process("gunicorn-elsewhere")


def test_queued_audit_outcomes_are_written_when_the_process_exits(django_db_blocker: Any) -> None:
    """Regression: outcomes waited in a daemon thread's queue; any exit of a
    web process with writes queued lost them."""
    with django_db_blocker.unblock():
        url = database_url(connections["default"].settings_dict)
        rows = [
            OrderRequestLog.objects.create(endpoint="order/limit", client="t", body={"n": n})
            for n in range(200)
        ]
    ids = [row.pk for row in rows]
    script = (
        "import django; django.setup()\n"
        "from trading import audit\n"
        f"for pk in {ids!r}:\n"
        "    audit.outcome_recorded(pk, {'state': 'done', 'http_status': 200, 'error': 'x'})\n"
        "raise SystemExit(0)  # at once: most are still queued\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "ibkr_project.settings"}

    result = run([sys.executable, "-c", script], env)

    assert result.returncode == 0, result.stderr
    with django_db_blocker.unblock():
        written = OrderRequestLog.objects.filter(pk__in=ids, state="done").count()
    assert written == len(ids)

"""The running stack for end-to-end tests: the simulator, the gateway worker
(a real Celery worker on the real Redis) and gunicorn, as subprocesses on
free ports, sharing the test database pytest-django created."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from ibsim.control import ControlClient

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "var" / "test-logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(settings_dict: dict[str, Any]) -> str:
    engine = settings_dict["ENGINE"]
    name = settings_dict["NAME"]
    if "sqlite" in engine:
        return f"sqlite:///{Path(name).resolve()}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


class Stack:
    def __init__(self, db_url: str, sim_args: tuple[str, ...] = (), **overrides: str) -> None:
        self.sim_args = sim_args
        self.token = uuid.uuid4().hex[:8]
        self.web_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = dict(os.environ)
        self.env.update(
            {
                "DATABASE_URL": db_url,
                "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
                # A queue and cache namespace of this run's own: nothing else
                # consumes its tasks or reads its mirror.
                "GATEWAY_QUEUE": f"gateway-test-{self.token}",
                "CACHE_KEY_PREFIX": f"ibkr-test-{self.token}",
                "IB_CLIENT_ID": "0",
                "ORDER_ACK_TIMEOUT": "5",
                "IB_CONNECT_TIMEOUT": "3",
                "IB_RECONNECT_MAX_DELAY": "1",
                "GATEWAY_STALE_AFTER": "3",
                "IB_PROBE_EVERY": "1",
                "IB_PROBE_TIMEOUT": "1",
                "PYTHONUNBUFFERED": "1",
                "IBKR_LOCAL_DEMO": "1",
                **overrides,
            }
        )
        self.sim_port = 0
        self.control_port = 0
        LOGS.mkdir(parents=True, exist_ok=True)

    # --- processes --------------------------------------------------------------

    def start_simulator(self) -> None:
        args = [
            sys.executable, "-m", "ibsim", "--no-walk",
            "--port", str(self.sim_port), "--control-port", str(self.control_port),
        ]  # fmt: skip
        args += list(self.sim_args)
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        match = re.search(r"api=[\d.]+:(\d+) control=[\d.]+:(\d+)", line)
        if not match:
            proc.kill()
            raise RuntimeError(f"ibsim did not start: {line!r}")
        self.sim_port, self.control_port = int(match[1]), int(match[2])
        self.procs["ibsim"] = proc
        self.env["IB_PORT"] = str(self.sim_port)

    def restart_simulator(self) -> None:
        """Kill the simulator (a gateway crash) and start it again on the same ports."""
        self.stop_process("ibsim", kill=True)
        deadline = time.time() + 10
        while True:
            try:
                self.start_simulator()
                return
            except RuntimeError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def start_worker(self, supervised: bool = False) -> None:
        """The gateway worker; supervised as in the Procfile (restarted when it
        dies on its own) or bare, for tests that kill it on purpose."""
        prefix = [sys.executable, "-m", "scripts.supervise"] if supervised else []
        self._spawn(
            "worker",
            [
                *prefix,
                sys.executable, "-m", "celery", "-A", "ibkr_project", "worker",
                "-Q", self.env["GATEWAY_QUEUE"], "-P", "threads", "-c", "8",
                "-n", f"gateway-{self.token}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "INFO",
            ],
        )  # fmt: skip

    def _spawn(self, name: str, args: list[str], **overrides: str) -> subprocess.Popen[bytes]:
        log = open(LOGS / f"{self.token}-{name}.log", "wb")  # noqa: SIM115
        env = {**self.env, **overrides}
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def start_web(self, name: str = "web", port: int = 0, **overrides: str) -> None:
        self._spawn(
            name,
            [
                sys.executable, "-m", "gunicorn", "ibkr_project.wsgi",
                "-b", f"127.0.0.1:{port or self.web_port}", "-k", "gthread", "-w", "1",
                "--threads", "8",
            ],
            **overrides,
        )  # fmt: skip

    def start_extra_web(self, name: str, **overrides: str) -> str:
        """Another gunicorn on the same worker and Redis, with other settings
        (e.g. authentication required); returns its base URL."""
        port = free_port()
        self.start_web(name, port, **overrides)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {LOGS}")
            try:
                requests.get(f"{base}/health", timeout=2)
                return base
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start")

    def start(self, supervised: bool = False) -> Stack:
        try:
            self.start_simulator()
            self.start_worker(supervised)
            self.start_web()
            self.wait_ready()
        except BaseException:
            self.stop()  # no process of a stack that failed to start outlives it
            raise
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {LOGS}")
            try:
                response = requests.get(f"{self.base_url}/account", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
                # A live account's reads are refused to anonymous requests (the
                # demo's rule): there /health says when the gateway is there.
                # (Waiting for /account alone passed only if the first read fell
                # in the second before the web had seen the account was live.)
                health = requests.get(f"{self.base_url}/health", timeout=2).json()
                gateway = health.get("gateway") or {}
                if gateway.get("trading_mode") == "live" and gateway.get("connected"):
                    return
            except (requests.RequestException, ValueError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise RuntimeError(f"stack not ready after {timeout}s: {last}")

    def stop_process(self, name: str, kill: bool = False) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def stop(self) -> None:
        for name in [n for n in self.procs if n not in ("web", "worker", "ibsim")]:
            self.stop_process(name)
        for name in ("web", "worker", "ibsim"):
            self.stop_process(name)

    # --- helpers -------------------------------------------------------------------

    @property
    def sim(self) -> ControlClient:
        return ControlClient("127.0.0.1", self.control_port)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.url(path), json=body, timeout=30, **kwargs)


def eventually(check: Any, timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll until check() returns something truthy; return it (or fail)."""
    deadline = time.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        time.sleep(interval)

"""`make run`: the whole stack on embedded defaults, in one terminal.

Migrates the database (SQLite by default), makes sure a Celery broker is
available, and starts the processes of the Procfile with honcho: the simulated
gateway (only while IB_PORT is the simulator's port), the gateway worker, the
scheduler and the web server on 127.0.0.1:8000.

Broker, in order of preference:
1. the Redis at REDIS_URL, when it answers;
2. a private redis-server on a free loopback port, when one is installed;
3. kombu's filesystem transport with file-based results and cache (no server).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import environ
import redis

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
SIMULATOR_PORT = 4012
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_private_redis(env: dict[str, str]) -> subprocess.Popen[bytes]:
    port = free_loopback_port()
    workdir = tempfile.mkdtemp(prefix="ibkr-redis-")
    args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(["redis-server", *args, "--dir", workdir], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        if redis_answers(url):
            break
        if proc.poll() is not None:
            raise SystemExit("[make run] the private redis-server exited at start")
        time.sleep(0.1)
    env["REDIS_URL"] = url
    say(f"no Redis answered at the configured REDIS_URL; started a private redis-server at {url}")
    return proc


def use_serverless_broker(env: dict[str, str]) -> None:
    broker_dir = VAR / "broker"
    results_dir = VAR / "celery-results"
    cache_dir = VAR / "cache"
    for folder in (broker_dir, results_dir, cache_dir):
        folder.mkdir(parents=True, exist_ok=True)
    env["CELERY_BROKER_URL"] = "filesystem://"
    env["CELERY_FILESYSTEM_BROKER_DIR"] = str(broker_dir)
    env["CELERY_RESULT_BACKEND"] = f"file://{results_dir}"
    env["CACHE_URL"] = f"filecache://{cache_dir}"
    say(
        "no Redis server answered and none is installed: falling back to Celery's "
        "filesystem broker and a file cache in var/ (fine for the demo, slower; "
        "install Redis or set REDIS_URL for real use)"
    )


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    # A local .env may set IB_PORT and friends; the processes read it too.
    if (ROOT / ".env").is_file():
        environ.Env.read_env(ROOT / ".env")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    # The demo serves the guide's unauthenticated examples on loopback only.
    env.setdefault("IBKR_LOCAL_DEMO", "1")
    VAR.mkdir(exist_ok=True)

    private_redis = None
    redis_url = env.get("REDIS_URL", DEFAULT_REDIS_URL)
    if "CELERY_BROKER_URL" in env:
        say(f"broker: {env['CELERY_BROKER_URL']} (from CELERY_BROKER_URL)")
    elif redis_answers(redis_url):
        say(f"broker, results and state mirror: Redis at {redis_url}")
    elif shutil.which("redis-server"):
        private_redis = start_private_redis(env)
    else:
        use_serverless_broker(env)

    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")

    names = ["worker", "beat", "web"]
    simulator_port = int(env.get("IBSIM_PORT", SIMULATOR_PORT))
    ib_port = int(env.setdefault("IB_PORT", str(simulator_port)))
    if ib_port == simulator_port:
        names.insert(0, "ibsim")
        say(f"gateway: the simulator (ibsim) on 127.0.0.1:{simulator_port}")
    else:
        say(f"gateway: {env.get('IB_HOST', '127.0.0.1')}:{ib_port} (simulator not started)")
    bind = env.get("WEB_BIND", "127.0.0.1:8000")
    say(f"API on http://{bind}  (docs: /docs, /redoc; Ctrl-C stops everything)")
    try:
        return subprocess.call(
            [sys.executable, "-m", "honcho", "-f", "Procfile", "start", *names],
            cwd=ROOT,
            env=env,
        )
    except KeyboardInterrupt:
        return 0
    finally:
        if private_redis is not None:
            private_redis.terminate()


if __name__ == "__main__":
    raise SystemExit(main())

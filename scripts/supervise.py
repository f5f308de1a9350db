"""`python -m scripts.supervise CMD ...`: run CMD and start it again whenever it
exits on its own, with back-off (1 s doubling to 30 s; reset after a minute
up).  SIGTERM / SIGINT stop the child and the supervisor.

Why: a Celery 5.7 worker can die with "Unrecoverable error" when its broker
connection breaks mid-flight (kombu's channel close tries to restore unacked
messages over the connection it has just dropped).  The gateway worker must
come back by itself after a Redis restart; docker-compose's restart policy
does that in production, this does it for `make run` (honcho stops the whole
stack when one process exits)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

STABLE_AFTER = 60.0
MAX_DELAY = 30.0


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m scripts.supervise CMD [ARGS...]", file=sys.stderr)
        return 2
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping:
            return code
        if time.monotonic() - started > STABLE_AFTER:
            delay = 1.0
        print(
            f"[supervise] {argv[0]} exited with {code}; starting it again in {delay:.0f}s",
            file=sys.stderr,
            flush=True,
        )
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return code
        delay = min(delay * 2, MAX_DELAY)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

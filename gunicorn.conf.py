"""gunicorn reads this file from the working directory by default (the
Procfile, docker-compose and the tests run it from the repository root).

Refuses to serve, from the addresses gunicorn really listens on (not from a
setting), what must never reach a network: the local demo's anonymous access
(IBKR_LOCAL_DEMO=1), and the public demo secret key.  The web app checks each
request again (trading.auth.demo_refusal), whatever server runs it."""

from __future__ import annotations

import os
from typing import Any


def when_ready(server: Any) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibkr_project.settings")
    import django

    django.setup()

    from trading.auth import exposure_refusal

    hosts = []
    for listener in server.LISTENERS:
        address = listener.sock.getsockname()
        if isinstance(address, tuple):  # TCP (host, port, ...); a unix socket is local
            hosts.append(str(address[0]))
    why = exposure_refusal(hosts)
    if why:
        server.log.error("refusing to start: %s", why)
        raise SystemExit(f"refusing to start: {why}")

"""runserver, refusing the addresses the demo and the public key must never
reach (trading.auth.exposure_refusal), as gunicorn does (gunicorn.conf.py).
`trading` comes before `django.contrib.staticfiles` in INSTALLED_APPS so this
command is the one Django runs; it keeps staticfiles' behaviour."""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as StaticRunserver
from django.core.management.base import CommandError

from trading.auth import exposure_refusal


class Command(StaticRunserver):
    def run(self, **options: Any) -> None:
        why = exposure_refusal([self.addr])  # type: ignore[attr-defined]
        if why:
            raise CommandError(f"refusing to start: {why}")
        super().run(**options)

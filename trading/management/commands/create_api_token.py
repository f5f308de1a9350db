"""Create an API token and print it (once): on stdout the token alone (so
``TOKEN=$(manage.py create_api_token ...)`` keeps working), on stderr how to
use it, including the two lines Alpaca's clients read for /v2
(``APCA-API-KEY-ID=...`` and ``APCA-API-SECRET-KEY=...``, each a line of its
own, ready to paste into an env file)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trading import auth
from trading.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token with a scope (read, trade or live) and print it once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True, help="who or what uses it")
        parser.add_argument("--scope", choices=[s for s, _ in ApiToken.SCOPES], default="read")

    def handle(self, *args: Any, **options: Any) -> None:
        if ApiToken.objects.filter(name=options["name"]).exists():
            raise CommandError(f"a token named {options['name']!r} exists already")
        token, raw = auth.token_create(name=options["name"], scope=options["scope"])
        self.stdout.write(raw)
        self.stderr.write(
            f"token {token.name!r} ({token.scope}) created; it is not shown again. "
            f"Use it as: Authorization: Bearer {raw[:12]}…\n"
            "or, for Alpaca's clients on /v2 (alpaca-py: TradingClient(key id, secret key)):"
        )
        self.stderr.write(f"APCA-API-KEY-ID={token.key_id}")
        self.stderr.write(f"APCA-API-SECRET-KEY={raw}")

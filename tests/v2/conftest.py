"""Fixtures of /v2's tests against the running stack: tokens, alpaca-py's
TradingClient pointed at the stack, a web server that requires a token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from alpaca.trading.client import TradingClient

from tests.stack import Stack
from trading.auth import token_create
from trading.models import ApiToken


@dataclass(frozen=True)
class Key:
    token: ApiToken
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"APCA-API-KEY-ID": self.token.key_id, "APCA-API-SECRET-KEY": self.secret}


def make_key(scope: str) -> Key:
    token, raw = token_create(name=f"v2-{scope}-{uuid.uuid4().hex[:8]}", scope=scope)
    return Key(token, raw)


@pytest.fixture(scope="module")
def trade_key(django_db_blocker: Any) -> Key:
    with django_db_blocker.unblock():
        return make_key("trade")


@pytest.fixture(scope="module")
def read_key(django_db_blocker: Any) -> Key:
    with django_db_blocker.unblock():
        return make_key("read")


@pytest.fixture
def client(api: Stack, trade_key: Key) -> TradingClient:
    """alpaca-py as a trader's script uses it, against the stack's /v2."""
    return TradingClient(
        trade_key.token.key_id, trade_key.secret, paper=True, url_override=api.base_url
    )


@pytest.fixture(scope="module")
def secured(stack: Stack) -> str:
    """A web server of the same stack with authentication required."""
    return stack.start_extra_web("web-v2-secured", IBKR_LOCAL_DEMO="0")

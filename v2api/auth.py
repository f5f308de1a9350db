"""Alpaca's key headers on the service's own tokens.

``APCA-API-SECRET-KEY`` is the token itself and ``APCA-API-KEY-ID`` its key
id (``ApiToken.key_id``, derived from the stored hash: no migration, nothing
more stored, printed by ``manage.py create_api_token``).  The secret
authenticates; the key id must belong to it, so a pair mixed from two tokens
is refused.  Scopes, revocation, the local demo's anonymous access and the
live-trading rules are trading.auth's, unchanged: /v2's views list this class
before trading.auth.ApiTokenAuthentication, so ``Authorization: Bearer``
keeps working there too."""

from __future__ import annotations

import hmac

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from trading.auth import TokenUser, token_hash
from trading.models import ApiToken

KEY_ID_HEADER = "APCA-API-KEY-ID"
SECRET_KEY_HEADER = "APCA-API-SECRET-KEY"
LAST_USED_EVERY = 60  # seconds between updates of last_used_at, as trading.auth does


class AlpacaKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        key_id = request.headers.get(KEY_ID_HEADER)
        secret = request.headers.get(SECRET_KEY_HEADER)
        if key_id is None and secret is None:
            return None  # perhaps a bearer token, or anonymous in the local demo
        if not key_id or not secret:
            raise exceptions.AuthenticationFailed(
                f"Send both {KEY_ID_HEADER} and {SECRET_KEY_HEADER} "
                "(manage.py create_api_token prints them)."
            )
        token = ApiToken.objects.filter(key_hash=token_hash(secret), revoked=False).first()
        if token is None or not hmac.compare_digest(token.key_id, key_id):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_EVERY
        ):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        # A 401 stays a 401 (DRF turns it into a 403 without this header).
        return 'Bearer realm="api"'

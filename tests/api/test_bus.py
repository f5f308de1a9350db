"""The order bus (trading.bus) on the real Redis, without a gateway worker:
what a web process does when nobody takes its request, and what the worker's
intake refuses to run."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import override_settings

from trading import bus
from trading.exceptions import OrderExpired
from trading.gateway.intake import Intake


def test_a_request_nobody_took_is_taken_back_and_reported_as_not_sent() -> None:
    with override_settings(GATEWAY_QUEUE=f"test-bus-{uuid.uuid4().hex[:8]}"):
        started = time.monotonic()
        with pytest.raises(OrderExpired):
            bus.call("cancel", {"perm_id": 1}, deadline=time.time() + 0.2, timeout=0.3)
        assert time.monotonic() - started < 2
        # Taken back off the list: a worker starting later never sends it.
        assert bus.client().llen(bus.requests_key()) == 0


def test_an_answer_on_the_reply_list_is_the_outcome() -> None:
    """The worker's side of the exchange, played by hand: pop, answer."""
    import json
    import threading

    with override_settings(GATEWAY_QUEUE=f"test-bus-{uuid.uuid4().hex[:8]}"):
        key = bus.requests_key()

        def worker() -> None:
            item = bus.client().brpop([key], timeout=5)
            assert item is not None
            request = json.loads(item[1])
            assert request["op"] == "cancel"
            assert request["args"] == {"perm_id": 7}
            assert request["reply"].startswith(bus.reply_prefix())
            bus.client().lpush(request["reply"], json.dumps({"ok": True, "perm_id": 7}))

        thread = threading.Thread(target=worker)
        thread.start()
        outcome = bus.call("cancel", {"perm_id": 7}, deadline=time.time() + 5, timeout=5)
        thread.join()
        assert outcome == {"ok": True, "perm_id": 7}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'{"op": "place"}',
        b'{"op": "reboot", "args": {}, "deadline": 1, "reply": "ibkr:bus:gateway:reply:x"}',
        b'{"op": "cancel", "args": [], "deadline": 1, "reply": "ibkr:bus:gateway:reply:x"}',
        b'{"op": "cancel", "args": {}, "deadline": "soon", "reply": "ibkr:bus:gateway:reply:x"}',
        b'{"op": "cancel", "args": {}, "deadline": 1, "reply": "somebody:elses:key"}',
    ],
)
def test_the_intake_drops_malformed_requests(raw: bytes) -> None:
    with override_settings(GATEWAY_QUEUE="gateway"):
        assert Intake._parse(raw) is None


def test_the_intake_accepts_a_well_formed_request() -> None:
    with override_settings(GATEWAY_QUEUE="gateway"):
        raw = (
            b'{"op": "cancel", "args": {"perm_id": 1}, "deadline": 1.5,'
            b' "reply": "ibkr:bus:gateway:reply:x"}'
        )
        assert Intake._parse(raw) == {
            "op": "cancel",
            "args": {"perm_id": 1},
            "deadline": 1.5,
            "reply": "ibkr:bus:gateway:reply:x",
        }

"""The order bus (trading.bus) on the real Redis, without a gateway worker:
what a web process does when nobody takes its request, and what the worker's
intake refuses to run."""

from __future__ import annotations

import time
import uuid

import pytest
from django.test import override_settings

from trading import bus, wire
from trading.exceptions import OrderExpired
from trading.gateway.intake import Intake


def test_a_request_nobody_took_is_taken_back_and_reported_as_not_sent() -> None:
    with override_settings(GATEWAY_QUEUE=f"test-bus-{uuid.uuid4().hex[:8]}"):
        started = time.monotonic()
        with pytest.raises(OrderExpired):
            bus.call("cancel", {"perm_id": 1}, deadline=time.time() + 0.2, timeout=0.3)
        assert time.monotonic() - started < 2
        # Taken back off the list: a worker starting later never sends it.
        assert wire.client().llen(wire.requests_key()) == 0


def test_an_answer_on_the_reply_list_is_the_outcome() -> None:
    """The worker's side of the exchange, played by hand: pop, answer."""
    import json
    import threading

    with override_settings(GATEWAY_QUEUE=f"test-bus-{uuid.uuid4().hex[:8]}"):
        key = wire.requests_key()

        def worker() -> None:
            item = wire.client().brpop([key], timeout=5)
            assert item is not None
            request = json.loads(item[1])
            assert request["op"] == "cancel"
            assert request["args"] == {"perm_id": 7}
            assert request["reply"].startswith(wire.reply_prefix())
            wire.client().lpush(request["reply"], json.dumps({"ok": True, "perm_id": 7}))

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


def test_an_answer_after_more_than_five_seconds_still_arrives() -> None:
    """Regression (issue 18): redis-py 8 gives every connection a 5 s socket
    timeout unless told otherwise, so an order whose answer took longer than
    5 s (IB slow to acknowledge; ORDER_ACK_TIMEOUT is 15 s) got 504 "Redis was
    lost" while the answer was still coming."""
    import json
    import threading

    with override_settings(GATEWAY_QUEUE=f"test-bus-{uuid.uuid4().hex[:8]}"):
        key = wire.requests_key()

        def slow_worker() -> None:
            item = wire.client().brpop([key], timeout=5)
            assert item is not None
            time.sleep(5.5)
            request = json.loads(item[1])
            wire.client().lpush(request["reply"], json.dumps({"ok": True, "perm_id": 9}))

        thread = threading.Thread(target=slow_worker)
        thread.start()
        outcome = bus.call("cancel", {"perm_id": 9}, deadline=time.time() + 8, timeout=8)
        thread.join()
        assert outcome == {"ok": True, "perm_id": 9}

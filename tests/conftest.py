from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.stack import Stack, database_url


@pytest.fixture(scope="session")
def stack(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Stack]:
    """The whole service on the simulator, shared by the end-to-end tests."""
    with django_db_blocker.unblock():
        url = database_url(connections["default"].settings_dict)
    running = Stack(url).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(stack: Stack) -> Stack:
    """The stack with a quiet market: every working order cancelled and prices
    back at their start values before each test."""
    stack.sim.call("reset")
    return stack

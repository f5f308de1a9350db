from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.stack import Stack, database_url


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment: None, django_db_blocker: Any, django_db_modify_db_settings: None
) -> Iterator[None]:
    """The test database, always: pytest-django creates it only for tests marked
    django_db, and the stack tests (which use `live_db` instead) need it too."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(  # the stubs say Mapping; Django takes any collection
            verbosity=0,
            interactive=False,
            aliases={"default"},  # type: ignore[arg-type]
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=0)


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


@pytest.fixture
def live_db(django_db_blocker: Any) -> Iterator[None]:
    """Database access for tests against the running stack, without
    pytest-django's flush after each test: the stack's worker writes the
    journal concurrently, and a TRUNCATE racing it deadlocks on PostgreSQL.
    Stack tests tell their rows apart by unique order refs instead."""
    with django_db_blocker.unblock():
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests against the running stack run last, so no test that empties the
    database runs while a stack's worker may be writing to it."""
    items.sort(key=lambda item: item.get_closest_marker("stack") is not None)

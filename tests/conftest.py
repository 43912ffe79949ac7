"""Settings shared by the whole suite: tests run on asyncio through anyio; `scale` tests (minutes
each, at real-mailbox sizes) run only when asked for with `-m scale`, so `make test` keeps its budget."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "scale" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a scale test (minutes): run it with -m scale")
    for item in items:
        if item.get_closest_marker("scale"):
            item.add_marker(skip)

"""The example's tests run on asyncio through anyio, like Pepper's, with the example importable
from its folder (Pepper's own pytest run collects them too: `testpaths` lists examples/)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

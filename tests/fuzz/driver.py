"""Driving a `ToolFuzzer` from Hypothesis: a server runs in an event loop behind a blocking portal while
Hypothesis, which is synchronous, draws each tool's arguments and checks every answer.

`running_fuzzer` starts a target over stdio or HTTP in a scratch folder and yields the portal and the
fuzzer; `fuzz_tool` runs `examples` draws for one tool, each call followed by the liveness probe, and
hands both outcomes to `check` (the test asserts there; the bench only counts). Shrinking is off: a
shrink re-runs calls against a server whose state has moved on, and one failure's outcome already
names the tool, the arguments and the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from .harness import Outcome, ToolFuzzer
from .schema_strategies import arguments
from .targets import Target
from .wire import open_wire

__all__ = ["fuzz_tool", "running_fuzzer"]

Check = Callable[[Outcome, Outcome], None]


@contextmanager
def running_fuzzer(
    target: Target, transport: str, folder: Path, deadline: float = 10.0
) -> Iterator[tuple[BlockingPortal, ToolFuzzer]]:
    """`target` started over `transport` on data under `folder`, seeded, with its tools listed."""
    folder.mkdir(parents=True, exist_ok=True)
    arguments_, env = target.prepare(folder)
    with start_blocking_portal(backend="asyncio") as portal:
        opened = open_wire(transport, target.module, arguments_, env, folder / "server.log")
        with portal.wrap_async_context_manager(opened) as wire:
            fuzzer = ToolFuzzer(wire, target, deadline)
            portal.call(fuzzer.start)
            yield portal, fuzzer


def fuzz_tool(
    portal: BlockingPortal,
    fuzzer: ToolFuzzer,
    tool: str,
    examples: int,
    check: Check,
    *,
    frame_extremes: bool = False,
    random_seed: int | None = None,
) -> None:
    """Call `tool` with `examples` drawn argument sets, three in four valid-ish and the rest invalid;
    after each call, the probe; `check` both."""
    schema = fuzzer.tools[tool]
    # Ids harvested so far, frozen for this tool: Hypothesis needs the same strategy for every draw.
    hints = {name: list(values) for name, values in fuzzer.hints.items()}

    invalid = examples // 4
    for valid, count in ((True, examples - invalid), (False, invalid)):
        strategy = arguments(schema, hints, valid=valid, frame_extremes=frame_extremes)
        _run(portal, fuzzer, tool, strategy, count, check, random_seed)


def _run(
    portal: BlockingPortal,
    fuzzer: ToolFuzzer,
    tool: str,
    strategy: st.SearchStrategy[Any],
    examples: int,
    check: Check,
    random_seed: int | None,
) -> None:
    if examples <= 0:
        return

    @settings(
        max_examples=examples,
        derandomize=random_seed is None,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        drawn = data.draw(strategy, label=tool)
        outcome = portal.call(fuzzer.call, tool, drawn)
        check(outcome, portal.call(fuzzer.alive))

    if random_seed is not None:
        run = seed(random_seed)(run)
    run()

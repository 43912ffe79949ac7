"""The disk under Pepper's data as one more line of the health view, with its alerts.

`DiskHealth` runs doctor's disk check (`checks.check_disk`: free space, and what Pepper's databases,
the context store's among them, use) each time the health book looks: **late** (amber) when the disk
is nearly full, **failing** (red) below the space the context store needs to keep writing. It has a
state, a reason and a fix like a mail or calendar source (`sources.Watched`), so `status`, the
header, `pepper://health` and the alert loop (one alert when it fills up, one when there is room
again) treat it alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.health.checks import Check, Level
from orchestrator.health.sources import SourceState

__all__ = ["DiskHealth"]

STATES = {Level.FAIL: SourceState.FAILING, Level.WARN: SourceState.LATE}


class DiskHealth:
    """Pepper's disk, judged by `probe` (`check_disk` bound to the settings)."""

    name = "disk"

    def __init__(self, probe: Callable[[], Check]) -> None:
        self.probe = probe
        self.failing_since: float | None = None
        self._fix = ""

    def state(self, now: float) -> tuple[SourceState, str]:
        check = self.probe()
        self._fix = check.fix
        state = STATES.get(check.level, SourceState.OK)
        self.failing_since = (self.failing_since or now) if state is SourceState.FAILING else None
        return state, check.detail

    def fix(self) -> str:
        return self._fix

    def outage_start(self, now: float) -> tuple[float, float]:
        began = self.failing_since or now
        return began, began

    def alert_texts(self) -> tuple[str, str, str]:
        return "Pepper's disk is nearly full", "Pepper's disk has room again", "."

    def snapshot(self, now: float) -> dict[str, Any]:
        state, reason = self.state(now)
        fix = self._fix if state is not SourceState.OK else None
        return {"name": self.name, "state": state.value, "reason": reason, "fix": fix or None, "details": []}

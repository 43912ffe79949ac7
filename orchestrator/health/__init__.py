"""How healthy a Pepper installation is: `pepper-orchestrator doctor` and the checks it runs.

Each check is a plain function that returns a `Check` (ok, info, warn or fail, what it saw, what to
do); `doctor.diagnose` runs them all, the ones that start servers or call the model concurrently and
each under its own deadline, and `doctor.report` prints them one line each.
"""

from orchestrator.health.checks import Check, Level
from orchestrator.health.doctor import diagnose, report

__all__ = ["Check", "Level", "diagnose", "report"]

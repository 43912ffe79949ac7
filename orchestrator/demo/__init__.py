"""Pepper's demo data: a generated mailbox and calendar for `pepper-orchestrator run --demo`.

`generate_demo(data_dir, seed=7, now=None)` writes a Maildir++ mailbox (a few hundred messages over
six weeks: colleagues, a manager, VIPs, newsletters, notifications, receipts, threads, sent mail) and
iCalendar files (recurring meetings, today's and tomorrow's meetings, an invitation) under
`data_dir`, all generated from the seed and dated relative to `now`. It never overwrites an existing
mailbox. `python -m orchestrator.demo DIR [--seed N]` does the same from a shell.
"""

from orchestrator.demo.generate import DemoSummary, generate_demo
from orchestrator.demo.people import DEMO_TIMEZONE, DEMO_USER, DEMO_USER_ADDRESS, DEMO_USER_NAME

__all__ = [
    "DEMO_TIMEZONE",
    "DEMO_USER",
    "DEMO_USER_ADDRESS",
    "DEMO_USER_NAME",
    "DemoSummary",
    "generate_demo",
]

"""`python -m orchestrator.demo DIR [--seed N] [--now ISO] [--json]`: write the demo data and say what was written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from orchestrator.demo.generate import generate_demo


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-24T10:30+00:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no timezone: add one, e.g. {text}+00:00")
    return moment


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.demo", description="Generate Pepper's demo mailbox and calendars"
    )
    parser.add_argument("data_dir", type=Path, help="folder to write mail/ and calendar/ into")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--now", type=_moment, help="date the data as if it were this time (default: now)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    arguments = parser.parse_args(argv)
    try:
        summary = generate_demo(arguments.data_dir, seed=arguments.seed, now=arguments.now)
    except OSError as exc:
        raise SystemExit(f"cannot write the demo data in {arguments.data_dir}: {exc}") from exc
    sys.stdout.write((summary.model_dump_json(indent=2) if arguments.json else summary.describe()) + "\n")


if __name__ == "__main__":
    main()

"""`pepper-orchestrator`: run Pepper, inspect it, approve its pending actions, configure MCP hosts.

    pepper-orchestrator run [--demo] [--data-dir DIR] [--port 5050]   run Pepper and its web UI
    pepper-orchestrator setup gmail|imap|caldav|google-calendar      connect a real account (read-only)
    pepper-orchestrator status                                        what a running Pepper is doing
    pepper-orchestrator ask "what's on tomorrow?"                     ask the running Pepper (rules engine)
    pepper-orchestrator approve ID [--reject]                         decide on a pending action
    pepper-orchestrator profile show                                  what Pepper knows about you
    pepper-orchestrator profile set name|role VALUE                   your name or role
    pepper-orchestrator profile vip add|remove ADDRESS                who is always important
    pepper-orchestrator profile project add|remove NAME               what you work on
    pepper-orchestrator profile project rename OLD NEW
    pepper-orchestrator profile remember FACT | forget WORDS          facts Pepper keeps in mind
    pepper-orchestrator correct important|not-important|never ID|ADDRESS   teach the Now list
    pepper-orchestrator mcp-config [--host claude-desktop|vscode]     the MCP host's JSON for the servers

Every command takes `--config PATH` (a TOML file; see orchestrator.config). `status`, `approve`,
`profile`, `correct` and `ask` find the running Pepper from `--data-dir` (or the config), or at `--port`.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from orchestrator import remote, runtime
from orchestrator.config import OrchestratorSettings, load_settings
from orchestrator.mcp_config import mcp_servers_config
from orchestrator.setup_accounts import SetupError, setup_account

__all__ = ["main"]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pepper-orchestrator", description="Pepper, the proactive assistant"
    )
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run Pepper: servers, feeds, scheduler, workers and the web UI")
    run.add_argument("--demo", action="store_true", help="generate and use the demo mailbox and calendar")
    run.add_argument("--data-dir", type=Path, help="where Pepper keeps its data (default: the user data dir)")
    run.add_argument("--host", help="UI bind address (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="UI port (default 5050)")
    setup = commands.add_parser(
        "setup", help="connect a real mail or calendar account (read-only by default)"
    )
    setup.add_argument("kind", choices=["gmail", "imap", "caldav", "google-calendar"])
    setup.add_argument(
        "--allow-write",
        action="store_true",
        help="let Pepper change labels, read state, drafts and your own events (reversible)",
    )
    setup.add_argument(
        "--allow-send",
        action="store_true",
        help="also let Pepper send, trash, invite and delete (each still needs your approval)",
    )
    instance = _instance_options()
    commands.add_parser("status", parents=[instance], help="show what the running Pepper is doing")
    ask = commands.add_parser("ask", parents=[instance], help="ask the running Pepper, as in chat")
    ask.add_argument("text", nargs="+", help='what to ask, e.g. "what\'s on tomorrow?"')
    approve = commands.add_parser(
        "approve", parents=[instance], help="approve (or reject) a pending action of the running Pepper"
    )
    approve.add_argument("action_id")
    approve.add_argument("--reject", action="store_true", help="reject instead of approving")
    approve.add_argument(
        "--digest", help="the digest `status` showed (the full 64 hex digits): refuse if the action changed"
    )
    _add_profile_parser(commands)
    correct = commands.add_parser(
        "correct",
        parents=[instance],
        help="teach the Now list: a mail or sender is (not) important, or never",
    )
    correct.add_argument("kind", choices=["important", "not-important", "never"])
    correct.add_argument("target", help="a mail id (as the UI and `ask` show it) or a sender's address")
    host = commands.add_parser("mcp-config", help="print the MCP host configuration for Pepper's servers")
    host.add_argument("--host", choices=["claude-desktop", "vscode"], default="claude-desktop")
    return parser.parse_args(argv)


def _instance_options() -> argparse.ArgumentParser:
    """`--data-dir` and `--port`: which running Pepper to talk to (given before or after a subcommand)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--data-dir", type=Path, default=argparse.SUPPRESS, help="the running Pepper's data dir"
    )
    options.add_argument("--port", type=int, default=argparse.SUPPRESS, help="the running Pepper's UI port")
    return options


def _add_profile_parser(commands: argparse._SubParsersAction) -> None:
    instance = _instance_options()
    profile = commands.add_parser(
        "profile", parents=[instance], help="show or edit what the running Pepper knows about you"
    )
    edits = profile.add_subparsers(dest="edit", required=True)
    edits.add_parser(
        "show", parents=[instance], help="the profile: name, role, VIPs, projects, remembered facts"
    )
    field = edits.add_parser("set", parents=[instance], help="set your name or role")
    field.add_argument("field", choices=["name", "role"])
    field.add_argument("value", nargs="+")
    vip = edits.add_parser("vip", parents=[instance], help="add or remove a VIP (an email address)")
    vip.add_argument("verb", choices=["add", "remove"])
    vip.add_argument("value", metavar="ADDRESS")
    project = edits.add_parser("project", parents=[instance], help="add, remove or rename a project")
    project.add_argument("verb", choices=["add", "remove", "rename"])
    project.add_argument("value", metavar="NAME")
    project.add_argument("to", nargs="?", metavar="NEW_NAME", help="the new name (rename only)")
    for verb, text in (("remember", "a fact to keep in mind"), ("forget", "drop the facts with these words")):
        edits.add_parser(verb, parents=[instance], help=text).add_argument("value", nargs="+")


def profile_command(settings: OrchestratorSettings, arguments: argparse.Namespace) -> str:
    """Run `profile ...` against the running Pepper."""
    if arguments.edit == "show":
        return remote.show_profile(settings)
    value = " ".join(arguments.value) if isinstance(arguments.value, list) else arguments.value
    action = {
        "set": f"set_{getattr(arguments, 'field', '')}",
        "remember": "remember",
        "forget": "forget",
    }.get(arguments.edit, f"{getattr(arguments, 'verb', '')}_{arguments.edit}")
    to = getattr(arguments, "to", None)
    if action == "rename_project" and not to:
        raise SystemExit("pepper-orchestrator profile project rename: say the new name: rename OLD NEW")
    if action != "rename_project" and to:
        raise SystemExit(
            f"pepper-orchestrator profile project {arguments.verb}: one name only (quote names with spaces)"
        )
    return remote.edit_profile(settings, {"action": action, "value": value, "to": to})


def main(argv: Sequence[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    creating = arguments.command == "setup" and arguments.config is not None and not arguments.config.exists()
    try:
        settings = load_settings(None if creating else arguments.config)
    except FileNotFoundError as exc:
        raise SystemExit(f"pepper-orchestrator: {exc}") from exc
    if arguments.command == "run":
        run_pepper(settings, arguments)
    elif arguments.command == "setup":
        try:
            written = setup_account(
                arguments.kind,
                settings,
                arguments.allow_send,
                arguments.config,
                allow_write=arguments.allow_write,
            )
        except SetupError as exc:
            raise SystemExit(f"pepper-orchestrator setup: {exc}") from exc
        print(f"{arguments.kind} is set up; its settings are in {written} (readable only by you).")
    elif arguments.command in ("status", "ask", "approve", "profile", "correct"):
        print(instance_command(_instance(settings, arguments), arguments))
    elif arguments.command == "mcp-config":
        print(json.dumps(mcp_servers_config(settings, arguments.host), indent=2))


def _instance(settings: OrchestratorSettings, arguments: argparse.Namespace) -> OrchestratorSettings:
    """The settings that reach the running Pepper: its data dir's record, or the port given."""
    if data_dir := getattr(arguments, "data_dir", None):
        settings = settings.model_copy(update={"data_dir": data_dir})
    settings = remote.locate(settings)
    if port := getattr(arguments, "port", None):
        settings = settings.model_copy(update={"ui_port": port})
    return settings


def instance_command(settings: OrchestratorSettings, arguments: argparse.Namespace) -> str:
    if arguments.command == "status":
        return remote.status(settings)
    if arguments.command == "ask":
        return remote.ask(settings, " ".join(arguments.text))
    if arguments.command == "correct":
        return remote.correct(settings, arguments.kind.replace("-", "_"), arguments.target)
    if arguments.command == "approve":
        return remote.decide(settings, arguments.action_id, reject=arguments.reject, digest=arguments.digest)
    return profile_command(settings, arguments)


def run_pepper(settings: OrchestratorSettings, arguments: argparse.Namespace) -> None:
    overrides = {"data_dir": arguments.data_dir, "ui_host": arguments.host, "ui_port": arguments.port}
    settings = settings.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    if arguments.demo and arguments.data_dir is None:
        settings = settings.model_copy(update={"data_dir": settings.data_dir / "demo"})
    settings = runtime.prepare_data(settings, arguments.demo)
    anyio.run(runtime.run, settings)


if __name__ == "__main__":
    main()

"""`pepper-orchestrator`: run Pepper, inspect it, approve its pending actions, configure MCP hosts.

    pepper-orchestrator run [--demo] [--data-dir DIR] [--port 5050]   run Pepper and its web UI
    pepper-orchestrator setup gmail|imap|caldav|google-calendar [--account NAME]  connect a real account (read-only)
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
    pepper-orchestrator mcp-config [--host claude-desktop|vscode] [--demo]  the MCP host's JSON for the servers
    pepper-orchestrator serve gmail|calendar|context|notify           one server over stdio (what hosts run)
    pepper-orchestrator service install|uninstall|status|logs        run Pepper in the background, at login
    pepper-orchestrator doctor                                        check the installation, say what to fix

Every command takes `--config PATH` (a TOML file; see orchestrator.config). `status`, `approve`,
`profile`, `correct` and `ask` find the running Pepper from `--data-dir` (or the config), or at `--port`.
Logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio
from platformdirs import user_config_dir

from mcp_servers.common.memory import limit_arenas
from orchestrator import health, remote, runtime, service
from orchestrator.accounts.setup import setup_named_account
from orchestrator.accounts.specs import account_connections
from orchestrator.config import (
    SERVER_MODULES,
    ConfigError,
    OrchestratorSettings,
    default_config_path,
    load_settings,
)
from orchestrator.health.host import build_health_server
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
    run.add_argument("--log-file", type=Path, help="also log to this file, rotated at 5 MiB (4 kept)")
    setup = commands.add_parser(
        "setup", help="connect a real mail or calendar account (read-only by default)"
    )
    setup.add_argument("kind", choices=["gmail", "imap", "caldav", "google-calendar"])
    setup.add_argument(
        "--account",
        metavar="NAME",
        help="add or replace the account NAME only ([accounts.NAME]; several accounts)",
    )
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
    host.add_argument(
        "--demo", action="store_true", help="point the host at the demo's data (as `run --demo`)"
    )
    host.add_argument("--data-dir", type=Path, help="the data the servers use (default: the config's)")
    serve = commands.add_parser(
        "serve", help="run one of Pepper's servers over stdio with the config's settings (for MCP hosts)"
    )
    serve.add_argument(
        "server",
        help=f"{', '.join(SERVER_MODULES)}, an account's gmail.NAME / calendar.NAME, or pepper "
        "(the running Pepper's health)",
    )
    serve.add_argument("--data-dir", type=Path, help="the data dir (default: the config's)")
    serve.add_argument("--port", type=int, help="pepper: the running Pepper's UI port")
    _add_service_parser(commands)
    doctor = commands.add_parser("doctor", help="check servers, accounts, model, disk, permissions, service")
    doctor.add_argument("--data-dir", type=Path, help="the data dir to check (default: the config's)")
    doctor.add_argument("--port", type=int, help="the UI port to check (default: the config's)")
    return parser.parse_args(argv)


def _add_service_parser(commands: argparse._SubParsersAction) -> None:
    service = commands.add_parser(
        "service", help="run Pepper in the background: at login, restarted on failure"
    )
    actions = service.add_subparsers(dest="action", required=True)
    install = actions.add_parser("install", help="write the user service (systemd or launchd) and start it")
    install.add_argument(
        "--data-dir", type=Path, help="the data dir the service runs on (default: the config's)"
    )
    install.add_argument("--port", type=int, help="the UI port (default: the config's)")
    actions.add_parser("uninstall", help="stop the service and remove it (data and logs stay)")
    actions.add_parser("status", help="whether the service runs, restarts, starts at login")
    logs = actions.add_parser("logs", help="the end of the service's log file")
    logs.add_argument("--lines", type=int, default=50, help="how many lines (1-10000, default 50)")


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
    except (FileNotFoundError, ConfigError) as exc:
        raise SystemExit(f"pepper-orchestrator: {exc}") from exc
    if arguments.command == "run":
        run_pepper(settings, arguments)
    elif arguments.command == "setup":
        try:
            written = (
                setup_named_account(
                    arguments.kind,
                    arguments.account,
                    settings,
                    allow_write=arguments.allow_write,
                    allow_send=arguments.allow_send,
                    config_file=arguments.config,
                )  # fmt: skip
                if arguments.account
                else setup_account(
                    arguments.kind,
                    settings,
                    arguments.allow_send,
                    arguments.config,
                    allow_write=arguments.allow_write,
                )  # fmt: skip
            )
        except SetupError as exc:
            raise SystemExit(f"pepper-orchestrator setup: {exc}") from exc
        what = f"the account {arguments.account}" if arguments.account else arguments.kind
        print(f"{what} is set up; its settings are in {written} (readable only by you).")
    elif arguments.command in ("status", "ask", "approve", "profile", "correct"):
        print(instance_command(_instance(settings, arguments), arguments))
    elif arguments.command == "mcp-config":
        mcp_config_command(settings, arguments)
    elif arguments.command == "serve":
        serve_command(settings, arguments)
    elif arguments.command == "service":
        print(service_command(arguments))
    elif arguments.command == "doctor":
        doctor_command(settings, arguments)


def doctor_command(settings: OrchestratorSettings, arguments: argparse.Namespace) -> None:
    """Run `doctor`: print every check, exit 1 when one failed."""
    overrides = {"data_dir": arguments.data_dir, "ui_port": arguments.port}
    settings = settings.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    config_file = arguments.config or default_config_path()
    text, status = health.report(anyio.run(health.diagnose, settings, config_file))
    print(text)
    if status:
        raise SystemExit(status)


def mcp_config_command(settings: OrchestratorSettings, arguments: argparse.Namespace) -> None:
    """Print the host's JSON on stdout and what the user must still do on stderr."""
    if arguments.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": arguments.data_dir.resolve()})
    if arguments.demo:
        settings = settings.model_copy(update={"data_dir": settings.data_dir / "demo"})
        if not (settings.data_dir / "mail").exists():
            print(f"note: no demo data at {settings.data_dir} yet: `make run` creates it", file=sys.stderr)
    elif _has_demo_only(settings):
        print(
            f"warning: {settings.data_dir} has no mail of its own; the demo's is in {settings.data_dir / 'demo'}: "
            "add --demo to point the host at it",
            file=sys.stderr,
        )
    config_file = arguments.config or (default_config_path() if default_config_path().exists() else None)
    shaped = mcp_servers_config(settings, arguments.host, config_file)
    print(json.dumps(shaped, indent=2))
    for note in shaped.notes:
        print(f"note: {note}", file=sys.stderr)


def _has_demo_only(settings: OrchestratorSettings) -> bool:
    mail = settings.data_dir / "mail"
    no_mail = not mail.exists() or not any(mail.glob("*/*"))
    return no_mail and (settings.data_dir / "demo" / "mail").exists() and settings.server("gmail").url is None


def serve_command(settings: OrchestratorSettings, arguments: argparse.Namespace) -> None:
    """Become Pepper's server `arguments.server`, with the command and env the config gives it."""
    if arguments.data_dir is not None:
        settings = settings.model_copy(update={"data_dir": arguments.data_dir})
    if arguments.server == "pepper":
        build_health_server(_instance(settings, arguments)).run(show_banner=False)
        return
    if arguments.server not in (known := [*SERVER_MODULES, *account_connections(settings)]):
        raise SystemExit(
            f"pepper-orchestrator serve: no server {arguments.server!r}; use one of {', '.join(known)}"
        )
    config = settings.server(arguments.server)
    if config.url:
        raise SystemExit(f"pepper-orchestrator serve: {arguments.server} is an HTTP server at {config.url}")
    os.execvpe(config.command[0], config.command, {**os.environ, **config.env})


def service_command(arguments: argparse.Namespace) -> str:
    """Run `service install|uninstall|status|logs`."""
    plan = service.ServicePlan(
        log_file=service.default_log_file(),
        config=arguments.config.resolve() if arguments.config else None,
        data_dir=(arguments.data_dir.resolve() if getattr(arguments, "data_dir", None) else None),
        port=getattr(arguments, "port", None),
        environment_file=Path(user_config_dir("pepper")) / "environment",
    )
    try:
        manager = service.service_manager(plan)
        if arguments.action == "logs":
            return manager.logs(arguments.lines)
        return getattr(manager, arguments.action)()
    except service.ServiceError as exc:
        raise SystemExit(f"pepper-orchestrator service {arguments.action}: {exc}") from exc


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
    if arguments.log_file is not None:
        service.log_to_file(arguments.log_file)
    overrides = {"data_dir": arguments.data_dir, "ui_host": arguments.host, "ui_port": arguments.port}
    settings = settings.model_copy(
        update={key: value for key, value in overrides.items() if value is not None}
    )
    if arguments.demo and arguments.data_dir is None:
        settings = settings.model_copy(update={"data_dir": settings.data_dir / "demo"})
    settings = runtime.prepare_data(settings, arguments.demo)
    limit_arenas()
    anyio.run(runtime.run, settings)


if __name__ == "__main__":
    main()

"""Command line of `pepper-gmail`: pick the mailbox, decide what it may change or send, serve MCP."""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio

from mcp_servers.common.memory import limit_arenas
from mcp_servers.common.startup import StartupError, reporting_startup_errors
from mcp_servers.common.subscriptions import ResourceSubscriptions
from mcp_servers.common.transport import (
    TransportOptions,
    add_transport_arguments,
    check_options,
    log_to_stderr,
    serve,
    transport_options,
)

from .gmail_push import PUSH_PATH
from .provider import MailProvider, MailProviderError
from .providers import make_provider
from .server import build_server, index_mailbox, watch_inbox
from .settings import GmailSettings

DEFAULT_PORT = 8766


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pepper-gmail", description="Pepper's mailbox MCP server")
    add_transport_arguments(parser, DEFAULT_PORT)
    parser.add_argument("--maildir", type=Path, help="Maildir++ folder to serve (maildir provider)")
    parser.add_argument(
        "--provider",
        choices=["maildir", "imap", "gmail", "composio"],
        help="Mailbox backend (default: maildir)",
    )
    parser.add_argument("--state-dir", type=Path, help="Where the index and change journal live")
    parser.add_argument(
        "--files-dir",
        type=Path,
        help="Folder attachments are saved into and the only folder files may be attached from",
    )
    parser.add_argument(
        "--allow-write",
        action="store_true",
        help="Enable reversible changes: labels, read state, archive, drafts",
    )
    parser.add_argument(
        "--allow-send",
        action="store_true",
        help="Enable sending, replying, forwarding, trash and spam (implies --allow-write)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `pepper-gmail` console script."""
    args = parse_args(argv)
    log_to_stderr(args.log_level)
    overrides = {
        key: value
        for key, value in {
            "maildir": args.maildir,
            "provider": args.provider,
            "state_dir": args.state_dir,
            "files_dir": args.files_dir,
            "allow_write": args.allow_write or None,
            "allow_send": args.allow_send or None,
        }.items()
        if value is not None
    }
    settings = GmailSettings(**overrides)
    options = transport_options(args, settings.token, settings.allowed_hosts)
    limit_arenas()
    with reporting_startup_errors("pepper-gmail"):
        check_options(options)
        anyio.run(run, settings, make_provider(settings), options)


async def run(settings: GmailSettings, provider: MailProvider, options: TransportOptions) -> None:
    """Connect to the mailbox, serve MCP at once, index and watch it beside, until cancelled."""
    subscriptions = ResourceSubscriptions()
    server = build_server(settings, provider, subscriptions)
    try:  # connect only: the first indexing runs below, once the server answers
        await provider.connect()
    except MailProviderError as exc:  # bad credentials, unreachable server: say so, no traceback
        raise StartupError(str(exc)) from exc
    try:
        async with anyio.create_task_group() as group:
            await group.start(watch_inbox, provider, subscriptions)
            group.start_soon(index_mailbox, provider, subscriptions)
            # The push route checks its own token (Pub/Sub cannot send the transport's bearer token).
            exempt = (PUSH_PATH,) if settings.gmail_push_token is not None else ()
            await serve(server, options, token_exempt_paths=exempt)
            group.cancel_scope.cancel()
    finally:
        subscriptions.close()
        await provider.aclose()


if __name__ == "__main__":
    main()

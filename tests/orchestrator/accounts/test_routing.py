"""Ids that look alike across accounts reach the right server: the default account's calendar or IMAP
folder named `work`, beside an account named `work`, gives ids `work:…` that read like that account's
stored ids. Actions route by the stored item (its `account`), not by the id's shape: in a real
`pepper-orchestrator run` with the default account on Dovecot and `[accounts.work]` on a Maildir, for
a worker's call through the toolbox to two real calendar servers, and for the chat's "mark read"."""

from __future__ import annotations

import imaplib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from orchestrator.accounts.routing import stored_route
from orchestrator.context_items import ContextItems
from orchestrator.conversation.act_actions import mark
from orchestrator.conversation.intents import Reading
from orchestrator.conversation.services import ActionError, Ref, Services
from orchestrator.feeds.ingest import CalendarIngest, MailIngest
from orchestrator.mcp_clients import ToolCallFailed
from orchestrator.workers.toolbox import Toolbox
from tests.mcp_servers.gmail.dovecot import DOVECOT, running_dovecot
from tests.orchestrator.accounts.test_calendars import account_connection, ics
from tests.orchestrator.accounts.test_ingest import deliver
from tests.orchestrator.accounts.test_two_accounts_run import CSRF, approve_reply, replies_in_imap, sent_files
from tests.orchestrator.accounts.two_accounts import HOME_MAIL, message, two_account_pepper
from tests.support.pepper_run import wait_until


@pytest.mark.anyio
@pytest.mark.servers("context", "calendar")
async def test_a_default_calendar_named_like_an_account_keeps_its_events_and_each_call_reaches_its_server(
    connections, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    (tmp_path / "calendar" / "work.ics").write_text(ics(("standup", soon, "Team standup")))
    (tmp_path / "office").mkdir()
    (tmp_path / "office" / "work.ics").write_text(ics(("review", soon, "Design review")))
    table = f'[accounts.work]\nkind = "ics"\nics = ["{tmp_path / "office" / "work.ics"}"]\n'
    async with account_connection(tmp_path, table, "calendar.work") as work:
        items = ContextItems(connections["context"])
        await CalendarIngest(connections["calendar"], items).sync()
        await CalendarIngest(work, items, account="work").sync()
        stored = {item.data["title"]: item.id for item in await items.query(["raw.calendar"])}
        assert stored == {"Team standup": "work:standup", "Design review": "work:work:review"}

        assert await stored_route(items, "calendar", "work:standup") == ("calendar", "work:standup")
        assert await stored_route(items, "calendar", "work:work:review") == ("calendar.work", "work:review")
        with pytest.raises(LookupError, match="no event 'work:lunch' among what Pepper has read"):
            await stored_route(items, "calendar", "work:lunch")

        toolbox = Toolbox({"calendar": connections["calendar"], "calendar.work": work}, items)
        await toolbox.load()
        default_get, work_get = (
            toolbox.tools[("calendar", "get_event")],
            toolbox.tools[("calendar.work", "get_event")],
        )
        assert "Team standup" in await toolbox.call(default_get, {"event_id": "work:standup"})
        assert "Design review" in await toolbox.call(
            work_get, {"event_id": "work:work:review"}
        )  # a stored id
        assert "Design review" in await toolbox.call(
            work_get, {"event_id": "work:review"}
        )  # its server's own
        with pytest.raises(ToolCallFailed):  # the default's event is not the work account's to read
            await toolbox.call(work_get, {"event_id": "work:standup"})


@pytest.mark.anyio
@pytest.mark.servers("context", "gmail")
async def test_the_chat_marks_mail_read_in_the_mailbox_of_the_account_it_was_stored_from(
    connections, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEPPER_CONFIG", str(tmp_path / "absent.toml"))
    deliver(tmp_path / "mail", "d1", "Lunch")
    deliver(tmp_path / "work-mail", "w1", "Quarterly plan")
    table = f'[accounts.work]\nkind = "maildir"\nmaildir = "{tmp_path / "work-mail"}"\nallow_write = true\n'
    async with account_connection(tmp_path, table, "gmail.work") as work:
        items = ContextItems(connections["context"])
        await MailIngest(connections["gmail"], items).sync()
        await MailIngest(work, items, account="work").sync()
        stored = {item.data["subject"]: item.id for item in await items.query(["raw.email"])}
        services = Services({**connections, "gmail.work": work}, items)  # no ranker: the mailbox only
        refs = [Ref("email", stored[subject], subject, namespace="raw.email") for subject in stored]
        reading = Reading("mark_read_item", "mark them read")
        said, _ = await mark(services, reading, datetime.now(UTC), refs)
        assert said.startswith("Marked read: ")
        assert work_mail_read(tmp_path / "work-mail") and work_mail_read(tmp_path / "mail")
        unknown = [Ref("email", "work:nope", "Nope", namespace="raw.email")]
        with pytest.raises(ActionError, match="no mail 'work:nope' among what Pepper has read"):
            await mark(services, reading, datetime.now(UTC), unknown)


def imap_flags(port: int, user: str, folder: str) -> list[bytes]:
    with imaplib.IMAP4("127.0.0.1", port) as imap:
        imap.login(user, "secret")
        imap.select(folder, readonly=True)
        return [line for line in imap.fetch("1:*", "(FLAGS)")[1] if isinstance(line, bytes)]


def replies(port: int, user: str) -> list[str]:
    """The replies filed in the default account's mailbox (its folder `work` holds the mail itself)."""
    return [subject for subject in replies_in_imap(port, user) if subject.startswith("Re: ")]


def work_mail_read(maildir: Path) -> bool:
    return any(path.name.endswith(",S") for path in (maildir / "cur").glob("*"))


@pytest.mark.slow
@pytest.mark.skipif(
    DOVECOT is None or os.geteuid() != 0, reason="needs dovecot (apt-get install dovecot-imapd) and root"
)
def test_mail_in_a_default_imap_folder_named_like_an_account_is_read_and_answered_in_its_own_mailbox(
    tmp_path: Path,
) -> None:
    with running_dovecot() as dovecot:
        user = dovecot.add_user()
        with imaplib.IMAP4("127.0.0.1", dovecot.port) as imap:
            imap.login(user, "secret")
            imap.create("work")
            imap.append("work", "", None, bytes(message("home1", *HOME_MAIL)))
        table = (
            f'kind = "imap"\nimap_host = "127.0.0.1"\nimap_port = {dovecot.port}\nimap_security = "none"\n'
            f'imap_username = "{user}"\nimap_password = "secret"\nfrom_address = "me@home.example"\n'
        )
        with two_account_pepper(tmp_path, default_table=table) as run:
            home, work = run.home["source_id"], run.work["source_id"]
            assert run.home["account"] == "default" and home.startswith("work:")  # its folder's name
            assert run.work["account"] == "work" and work.startswith("work:")

            for mail in (home, work):
                marked = httpx.post(f"{run.api}/mail/{mail}/read", headers=CSRF, timeout=60)
                assert marked.json() == {"marked": "mailbox"}, marked.text
            assert [b"\\Seen" in line for line in imap_flags(dovecot.port, user, "work")] == [True]
            assert work_mail_read(run.work_mail)

            approve_reply(run.api, "tell Dana thanks, Saturday works", "gmail")
            filed = wait_until(lambda: replies(dovecot.port, user), 60, "the reply filed over IMAP")
            assert filed == ["Re: Dinner on Saturday?"]
            assert sent_files(run.work_mail) == []

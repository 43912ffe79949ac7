"""A profile stored in format 1 (learned from any mail whose From was the user's address) loads without
error: its learned part is relearned from the Sent mail in the store, which drops what forged mail
taught (a new name, projects "Time", "Over", "Low"), and the user's addresses, VIPs and edits stay."""

from __future__ import annotations

import pytest

from mcp_servers.gmail.parsing import parse_message
from orchestrator.context_items import ContextItems
from orchestrator.feeds.mail import PROFILE_VERSION
from orchestrator.profile import PROFILE, ProfileBook, migrate_profile

pytestmark = pytest.mark.anyio
ME = "me@example.org"
SEEN = "2026-11-20T09:00:00Z"

# What Pepper stored before learning was limited to the Sent folder, after a forged campaign.
VERSION_1 = {
    "addresses": [ME],
    "vips": ["boss@example.org"],
    "sent_to": {"sam@example.org": 2, "winner@prizes.example": 3},
    "replied_to": {},
    "name": "Time Over",
    "role": "Low Rates Director",
    "threads": {
        "t-time": {"subject": "Time: your prize", "people": ["winner@prizes.example"], "last_sent": SEEN},
        "t-over": {"subject": "Time is Over", "people": ["winner@prizes.example"], "last_sent": SEEN},
    },
    "learned_projects": [
        {"name": name, "last_seen": SEEN, "threads": 2, "source": "learned"}
        for name in ("Time", "Over", "Low")
    ],
    "edits": {
        "notes": ["I prefer short replies"],
        "vips_removed": [],
        "projects": {"atlas": {"name": "Atlas", "added": True}, "low": {"name": "Low", "hidden": True}},
    },
}


def mail(id: str, folder_labels: list[str], sender: str, subject: str, signature: str) -> dict:
    raw = (
        f"From: {sender}\nTo: Sam Lee <sam@example.org>\nSubject: {subject}\n"
        f"Date: Tue, 24 Nov 2026 09:00:00 +0000\nMessage-ID: <{id}@example.org>\n\nSee notes.\n\n-- \n{signature}\n"
    ).encode()
    return parse_message(raw, id=id, labels=folder_labels).model_dump(by_alias=True, mode="json")


async def store_mailbox(items: ContextItems) -> None:
    signature = "Me Myself\nHead of Testing · Example Ltd"
    for id, subject in (("s1", "Beacon: notes"), ("s2", "Beacon launch plan")):
        await items.put(
            "raw.email", id, mail(id, ["SENT"], f"Me Myself <{ME}>", subject, signature), tags=["SENT"]
        )
    forged = mail(
        "f1", ["INBOX", "UNREAD"], f"Time Over <{ME}>", "Time: Over 50% off", "Time Over\nLow Rates"
    )
    await items.put("raw.email", "f1", forged, tags=["INBOX", "UNREAD"])


def test_migrate_profile_drops_the_learned_part_of_version_1_and_keeps_the_users_word() -> None:
    profile, relearn = migrate_profile(VERSION_1)
    assert relearn and profile.version == PROFILE_VERSION
    assert (profile.name, profile.role, profile.sent_to, profile.learned_projects) == (None, None, {}, [])
    assert profile.addresses == {ME} and profile.vips == {"boss@example.org"}
    assert profile.edits.notes == ["I prefer short replies"] and profile.edits.projects["low"].hidden


def test_migrate_profile_reads_todays_format_and_nothing_as_they_are() -> None:
    current, _ = migrate_profile(VERSION_1)
    again, relearn = migrate_profile(current.model_dump(mode="json"))
    assert not relearn and again == current
    assert migrate_profile(None)[1] is False
    with pytest.raises(ValueError, match="is a list, not an object: delete that item"):
        migrate_profile(["not", "a", "profile"])  # type: ignore[arg-type]


async def test_profile_book_relearns_a_version_1_profile_from_sent_mail_once(connections) -> None:
    items = ContextItems(connections["context"])
    await items.put(*PROFILE, VERSION_1)
    await store_mailbox(items)

    profile = await ProfileBook(items, [ME], []).load()
    assert (profile.name, profile.role) == ("Me Myself", "Head of Testing")
    assert [p.name for p in profile.projects()] == ["Beacon", "Atlas"]
    assert profile.sent_to == {"sam@example.org": 2} and "winner@prizes.example" not in profile.sent_to
    assert profile.edits.notes == ["I prefer short replies"] and profile.vips == {"boss@example.org"}

    stored = await items.get(*PROFILE)
    assert stored is not None and stored.data["version"] == PROFILE_VERSION
    await items.put(
        "raw.email", "s3", mail("s3", ["SENT"], f"<{ME}>", "Gamma: kickoff", "Me Myself"), tags=["SENT"]
    )
    again = await ProfileBook(items, [ME], []).load()  # already version 2: loaded as stored, not relearned
    assert again.sent_to == {"sam@example.org": 2}

"""Invitations for calendars that no server schedules: iTIP messages (RFC 5546) in e-mails (iMIP, RFC 6047).

When the ICS provider writes a calendar, `invitations(before, after, organizer)` compares the two
versions series by series. For every series the user organises that changed and invites other
people, it yields a METHOD:REQUEST with the whole series (new events, edits, cancelled or split
occurrences: the SEQUENCE the edit raised tells attendees it is newer) to the current attendees,
and a METHOD:CANCEL to the attendees who were dropped or, when the series is gone, to everyone.
For someone else's event whose invitation the user answered, it yields a METHOD:REPLY to its
organizer naming the user as the only attendee.
`itip_email` wraps one in a multipart e-mail (text/plain and text/calendar; method=...), which an
`OutboxFolder` writes as a .eml file or an `SmtpRelay` sends.
"""

from __future__ import annotations

import smtplib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal, Protocol

import icalendar
from icalendar.cal import Component

from mcp_servers.calendar.errors import CalendarSourceError
from mcp_servers.calendar.ics_write import atomic_write
from mcp_servers.calendar.settings import CalendarSettings

__all__ = [
    "Invitation",
    "Mailer",
    "OutboxFolder",
    "SmtpRelay",
    "invitations",
    "itip_email",
    "mailer_from",
]

Method = Literal["REQUEST", "CANCEL", "REPLY"]


@dataclass
class Invitation:
    """One iTIP message to send: its method, the series, and to whom."""

    method: Method
    uid: str
    recipients: list[str]
    components: list[Component]

    @property
    def sequence(self) -> int:
        return _sequence(self.components)

    @property
    def title(self) -> str:
        return next((str(c["SUMMARY"]) for c in self.components if "SUMMARY" in c), "(no title)")


class Mailer(Protocol):
    def deliver(self, message: EmailMessage) -> None: ...


def invitations(before: icalendar.Calendar | None, after: icalendar.Calendar, user: str) -> list[Invitation]:
    """What the user (`user`, their address) has to send for the difference between two versions."""
    old, new = _series(before), _series(after)
    result: list[Invitation] = []
    for uid in sorted(old.keys() | new.keys()):
        if _ical(old.get(uid)) == _ical(new.get(uid)):
            continue
        was = _invitees(old.get(uid, []), user)
        now = _invitees(new.get(uid, []), user)
        if uid in new and now:
            result.append(Invitation("REQUEST", uid, now, new[uid]))
        dropped = [email for email in was if email.lower() not in {n.lower() for n in now}]
        if dropped:  # told with the series as they knew it, at the new SEQUENCE
            sequence = _sequence(new[uid]) if uid in new else _sequence(old[uid]) + 1
            result.append(Invitation("CANCEL", uid, dropped, _cancelled(old[uid], dropped, sequence)))
        reply = _reply(uid, old.get(uid, []), new.get(uid, []), user)
        if reply is not None:
            result.append(reply)
    return result


def _reply(uid: str, old: list[Component], new: list[Component], user: str) -> Invitation | None:
    """A REPLY to the organizer of someone else's event when the user's answer to it changed."""
    master = next((c for c in new if "RECURRENCE-ID" not in c), new[0] if new else None)
    host = _email(master.get("ORGANIZER", "")) if master is not None else ""
    if not host or host.lower() == user.lower():
        return None
    before = {_occurrence(c): _answer(c, user) for c in old}
    answered = [
        c for c in new if _answer(c, user) is not None and _answer(c, user) != before.get(_occurrence(c))
    ]
    if not answered:
        return None
    return Invitation("REPLY", uid, [host], [_only(c, user) for c in answered])


def _occurrence(component: Component) -> bytes:
    rid = component.get("RECURRENCE-ID")
    return rid.to_ical() if rid is not None else b""


def _mine(component: Component, user: str) -> object | None:
    attendees = component.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        if _email(attendee).lower() == user.lower():
            return attendee
    return None


def _answer(component: Component, user: str) -> str | None:
    mine = _mine(component, user)
    return None if mine is None else str(mine.params.get("PARTSTAT", "NEEDS-ACTION")).upper()


def _only(component: Component, user: str) -> Component:
    """A copy of the component that names the user as its only attendee, as a REPLY does."""
    copy = icalendar.Event.from_ical(component.to_ical())
    copy.pop("ATTENDEE", None)
    copy.add("ATTENDEE", _mine(component, user))
    return copy


def _series(calendar: icalendar.Calendar | None) -> dict[str, list[Component]]:
    grouped: dict[str, list[Component]] = {}
    for component in calendar.walk("VEVENT") if calendar is not None else []:
        grouped.setdefault(str(component.get("UID", "")), []).append(component)
    return grouped


def _ical(components: list[Component] | None) -> list[bytes]:
    return sorted(c.to_ical() for c in components or [])


def _email(value: object) -> str:
    return str(value).removeprefix("mailto:").removeprefix("MAILTO:")


def _invitees(components: list[Component], organizer: str) -> list[str]:
    """Attendees of a series the user organises; none when someone else does."""
    master = next((c for c in components if "RECURRENCE-ID" not in c), components[0] if components else None)
    if master is None or _email(master.get("ORGANIZER", "")).lower() != organizer.lower():
        return []
    people: dict[str, str] = {}
    for component in components:
        attendees = component.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            email = _email(attendee)
            if email.lower() != organizer.lower():
                people.setdefault(email.lower(), email)
    return list(people.values())


def _sequence(components: list[Component]) -> int:
    return max(int(c.get("SEQUENCE", 0)) for c in components)


def _cancelled(components: list[Component], recipients: list[str], sequence: int) -> list[Component]:
    """Copies of the series marked cancelled, naming only `recipients` as attendees."""
    wanted = {email.lower() for email in recipients}
    copies = []
    for component in components:
        copy = icalendar.Event.from_ical(component.to_ical())
        attendees = copy.pop("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if _email(attendee).lower() in wanted:
                copy.add("ATTENDEE", attendee)
        for name, value in (("STATUS", "CANCELLED"), ("SEQUENCE", sequence), ("DTSTAMP", datetime.now(UTC))):
            copy.pop(name, None)
            copy.add(name, value)
        copies.append(copy)
    return copies


def itip_email(invitation: Invitation, user: str) -> EmailMessage:
    """The invitation (or answer) as an iMIP e-mail from the user's address."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", "-//Pepper//calendar//EN")
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", invitation.method)
    for component in invitation.components:
        calendar.add_component(component)
    try:
        calendar.add_missing_timezones()
    except Exception:  # a zone icalendar cannot describe: the TZIDs still name it
        pass
    verb = {"CANCEL": "Cancelled", "REQUEST": "Invitation"}.get(invitation.method, "")
    if invitation.method == "REQUEST" and invitation.sequence > 0:
        verb = "Updated invitation"
    if invitation.method == "REPLY":
        verb = _answer(invitation.components[0], user) or "Answer"
        verb = {"NEEDS-ACTION": "Undecided"}.get(verb, verb.capitalize())
    message = EmailMessage()
    message["From"] = user
    message["To"] = ", ".join(invitation.recipients)
    message["Subject"] = (
        f"{verb}: {' '.join(invitation.title.splitlines())}"  # someone else's title may break lines
    )
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=user.partition("@")[2] or None)
    message.set_content(
        f"{verb}: {invitation.title}\n\nThe event is attached in iCalendar form (text/calendar).\n"
    )
    message.add_alternative(
        calendar.to_ical().decode(), subtype="calendar", params={"method": invitation.method}
    )
    return message


class OutboxFolder:
    """Invitations written as .eml files into a folder, for a mail client or a script to send."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser()

    def deliver(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            atomic_write(self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml", message.as_bytes())
        except OSError as exc:
            raise CalendarSourceError(
                f"the event was saved, but the invitation could not be written to {self.folder}: {exc}"
            ) from exc


@dataclass
class SmtpRelay:
    """Invitations sent through an SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 20.0

    def deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise CalendarSourceError(
                f"the event was saved, but sending the invitation through {self.host}:{self.port} "
                f"failed: {exc}; check PEPPER_CALENDAR_SMTP_HOST and the SMTP settings"
            ) from exc


def mailer_from(settings: CalendarSettings) -> Mailer | None:
    """SMTP when a host is set, else the outbox folder when one is, else no invitations."""
    if (settings.smtp_host or settings.invite_outbox) and not settings.user_email:
        raise SystemExit("invitations need your address as their organizer: set PEPPER_CALENDAR_USER_EMAIL")
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpRelay(
            settings.smtp_host, settings.smtp_port, settings.smtp_username, password, settings.smtp_starttls
        )
    return OutboxFolder(settings.invite_outbox) if settings.invite_outbox else None

"""Threads the way mail clients write them: greetings, signatures, quoted history, consistent headers.

`Conversation` starts a thread and adds replies: each reply gets `Re:` once, `In-Reply-To` the message
it answers and `References` the whole chain, a later date, and the earlier message quoted below it
(Gmail's `On ... wrote:` with `> ` lines, Outlook's `-----Original Message-----` block for outside
senders, or no quote at all from a phone). Mail the user writes goes to Sent; the rest to the inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.demo.mime import Mail
from orchestrator.demo.people import USER, Person
from orchestrator.demo.timeline import Timeline

__all__ = ["Conversation", "compose"]


def compose(sender: Person, to: list[Person], text: str, greeting: bool = True) -> str:
    """A body: greeting, the text, a sign-off and the sender's signature."""
    names = " and ".join(person.first for person in to[:2]) if len(to) <= 2 else "all"
    lines = [f"Hi {names},", "", text.strip()] if greeting else [text.strip()]
    if sender.signature.startswith("-- "):
        # Varied by the text, not the random source, so composing never shifts later draws.
        lines += ["", "Thanks," if len(text) % 3 else "Best,", sender.first]
    lines += ["", sender.signature] if sender.signature else []
    return "\n".join(lines).rstrip() + "\n"


def _gmail_quote(mail: Mail) -> str:
    when = mail.date.strftime("%a, %d %b %Y at %H:%M")
    quoted = "\n".join(f"> {line}" if line else ">" for line in mail.body.rstrip("\n").split("\n"))
    return f"On {when}, {mail.sender.name} <{mail.sender.email}> wrote:\n{quoted}"


def _outlook_quote(mail: Mail) -> str:
    to = "; ".join(person.name for person in mail.to)
    header = [
        "-----Original Message-----",
        f"From: {mail.sender.name} <{mail.sender.email}>",
        f"Sent: {mail.date.strftime('%A, %d %B %Y %H:%M')}",
        f"To: {to}",
        f"Subject: {mail.subject}",
    ]
    return "\n".join(header) + "\n\n" + mail.body.rstrip("\n")


class Conversation:
    """One thread under construction; `mails` holds its messages in order."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.mails: list[Mail] = []

    def start(
        self,
        sender: Person,
        to: list[Person],
        subject: str,
        text: str,
        date: datetime,
        cc: list[Person] | None = None,
    ) -> Mail:
        mail = Mail(
            sender=sender,
            to=to,
            cc=cc or [],
            subject=subject,
            date=date,
            body=compose(sender, to, text),
            message_id=self.timeline.message_id(sender.domain),
            folder="Sent" if sender == USER else "",
        )
        self.mails.append(mail)
        return mail

    def reply(self, sender: Person, text: str, after: timedelta, quote: bool = True) -> Mail:
        """`sender` answers the last message `after` later (squeezed before now when it would not fit)."""
        last = self.mails[-1]
        recipients = [p for p in [last.sender, *last.to] if p != sender][:3] or [last.sender]
        cc = [p for p in last.cc if p != sender and p not in recipients]
        body = compose(sender, recipients[:1], text)
        if quote:
            outside = sender.domain != USER.domain
            body += "\n" + (_outlook_quote(last) if outside else _gmail_quote(last)) + "\n"
        subject = last.subject if last.subject.lower().startswith("re:") else f"Re: {last.subject}"
        mail = Mail(
            sender=sender,
            to=recipients,
            cc=cc,
            subject=subject,
            date=self._after(last.date, after),
            body=body,
            message_id=self.timeline.message_id(sender.domain),
            in_reply_to=last.message_id,
            references=[*last.references, last.message_id][-10:],
            folder="Sent" if sender == USER else "",
        )
        self.mails.append(mail)
        return mail

    def _after(self, previous: datetime, gap: timedelta) -> datetime:
        now = self.timeline.now
        moment = previous + gap
        if not 7 <= moment.hour < 21:  # people answer in the morning, not at 2am
            moment = (moment + timedelta(hours=10)).replace(hour=8) + timedelta(minutes=moment.minute)
        if moment >= now:
            moment = previous + (now - previous) / 2
        return moment.replace(microsecond=0)

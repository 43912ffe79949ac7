"""The orchestrator's view of a stored email (`raw.email` items) and of the user it belongs to.

The gmail server's normalized message arrives as JSON; the orchestrator never imports the server, so
it reads that JSON into these models, keeping only what the feeds use and ignoring the rest.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Mailbox(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = ""
    email: str

    @property
    def display(self) -> str:
        return self.name or self.email


class ListHeaders(BaseModel):
    model_config = ConfigDict(extra="ignore")

    list_unsubscribe: str | None = None
    list_id: str | None = None
    precedence: str | None = None


class Email(BaseModel):
    """A message as the feeds see it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    thread_id: str = ""
    message_id: str | None = None
    sender: Mailbox | None = Field(None, alias="from")
    to: list[Mailbox] = Field(default_factory=list)
    cc: list[Mailbox] = Field(default_factory=list)
    date: datetime
    subject: str = ""
    text: str = ""
    labels: list[str] = Field(default_factory=list)
    list_headers: ListHeaders = Field(default_factory=ListHeaders)
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)


class UserProfile(BaseModel):
    """Who the user is and whom they care about; learned from their own mail, editable."""

    addresses: set[str] = Field(default_factory=set, description="The user's own addresses, lower case")
    vips: set[str] = Field(default_factory=set, description="Addresses the user marked important")
    sent_to: dict[str, int] = Field(
        default_factory=dict, description="Messages the user sent to each address"
    )
    replied_to: dict[str, int] = Field(
        default_factory=dict, description="Replies the user wrote to each address"
    )

    def is_user(self, mailbox: Mailbox | None) -> bool:
        return mailbox is not None and mailbox.email.lower() in self.addresses

    def learn_from_sent(self, email: Email) -> None:
        """Count the recipients of a message the user sent (and whether it was a reply)."""
        for mailbox in [*email.to, *email.cc]:
            address = mailbox.email.lower()
            self.sent_to[address] = self.sent_to.get(address, 0) + 1
            if email.in_reply_to:
                self.replied_to[address] = self.replied_to.get(address, 0) + 1

    def describe(self, top: int = 8) -> str:
        """A few lines for a prompt: who the user is and whom they deal with most."""
        frequent = sorted(
            self.sent_to, key=lambda address: -(self.sent_to[address] + self.replied_to.get(address, 0))
        )
        lines = [f"The user's addresses: {', '.join(sorted(self.addresses)) or 'unknown yet'}."]
        if self.vips:
            lines.append(f"VIPs (always important): {', '.join(sorted(self.vips))}.")
        if frequent:
            lines.append(f"People the user writes to most: {', '.join(frequent[:top])}.")
        return "\n".join(lines)

    def sender_importance(self, mailbox: Mailbox | None) -> float:
        """0 for strangers, growing with how often the user writes and replies to them; VIPs rank top."""
        if mailbox is None:
            return 0.0
        address = mailbox.email.lower()
        if address in self.vips:
            return 10.0
        return min(self.sent_to.get(address, 0) * 0.5 + self.replied_to.get(address, 0), 9.0)

"""The orchestrator's view of a stored email (`raw.email` items) and of the user it belongs to.

The gmail server's normalized message arrives as JSON; the orchestrator never imports the server, so
it reads that JSON into these models, keeping only what the feeds use and ignoring the rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from orchestrator.feeds.projects import (
    THREADS_KEPT,
    Project,
    SentThread,
    identity_from_signature,
    learn_projects,
    mentions,
    subject_topic,
)


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


AUTH_FAILURES = {"spf": ("fail", "softfail"), "dkim": ("fail",), "dmarc": ("fail",)}


class Authentication(BaseModel):
    """SPF, DKIM and DMARC results as the receiving servers wrote them (the gmail server's
    `authentication`); mail stored before the field existed reads as unknown (None)."""

    model_config = ConfigDict(extra="ignore")

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None

    def failures(self) -> list[str]:
        """The failed checks, as `method=result` (e.g. `spf=softfail`): a sign of a forged From.
        None when DMARC passed: the From's domain was then authenticated by one of the others (a
        forwarded message fails SPF, a list's footer breaks one DKIM signature, and neither is forgery)."""
        if (self.dmarc or "").lower() == "pass":
            return []
        found = {"spf": self.spf, "dkim": self.dkim, "dmarc": self.dmarc}
        return [f"{m}={r}" for m, r in found.items() if r is not None and r.lower() in AUTH_FAILURES[m]]


class AttachmentInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = ""
    content_type: str = ""


class Email(BaseModel):
    """A message as the feeds see it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    account: str | None = Field(None, description="The account it came to (orchestrator.accounts)")
    thread_id: str = ""
    message_id: str | None = None
    sender: Mailbox | None = Field(None, alias="from")
    to: list[Mailbox] = Field(default_factory=list)
    cc: list[Mailbox] = Field(default_factory=list)
    date: datetime
    subject: str = ""
    text: str = Field("", description="What the sender wrote in this message (no quote, no signature)")
    quoted: str = Field("", description="The earlier messages it quotes; context, not the sender's words")
    signature: str = ""
    labels: list[str] = Field(default_factory=list)
    list_headers: ListHeaders = Field(default_factory=ListHeaders)
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    authentication: Authentication = Field(default_factory=Authentication)
    reply_to: list[Mailbox] = Field(default_factory=list)
    attachments: list[AttachmentInfo] = Field(default_factory=list)

    @property
    def in_sent(self) -> bool:
        """Filed by the provider under Sent (the Gmail SENT label, the IMAP \\Sent folder, Maildir
        `.Sent`), which is where mail sent through Pepper lands too: the only proof the user wrote it.
        A From header proves nothing; anyone can write the user's address there."""
        return "SENT" in self.labels

    def text_with_context(self, limit: int = 6000) -> str:
        """The new text, then the quoted earlier messages, marked as such, in what room is left."""
        text = self.text[:limit]
        room = limit - len(text) - len(QUOTED_MARK) - 2
        if not self.quoted.strip() or room < 200:
            return text
        return f"{text}\n\n{QUOTED_MARK}\n{self.quoted[:room]}".strip()


QUOTED_MARK = "[Quoted from earlier messages in the thread: context only, not written by the sender now]"


class ProjectEdit(BaseModel):
    """What the user said about one project (keyed by the learned name, lower case, or their own)."""

    name: str = Field(description="The name to show (a rename keeps the key)")
    aliases: list[str] = Field(default_factory=list, description="Other names that mean this project")
    hidden: bool = Field(False, description="Removed by the user: learning never brings it back")
    added: bool = Field(False, description="Added by the user rather than learned")


class ProfileEdits(BaseModel):
    """The user's own word on their profile: learning never writes here, and it wins over learning."""

    name: str | None = None
    role: str | None = None
    notes: list[str] = Field(default_factory=list, description="Facts the user asked Pepper to remember")
    vips_removed: set[str] = Field(default_factory=set, description="VIPs the user removed (settings too)")
    projects: dict[str, ProjectEdit] = Field(default_factory=dict)


ACTIVE_FOR = timedelta(days=30)
DESCRIBE_LIMIT = 1500


LEARNED_IDS_KEPT = 1000  # more than a replayed page or a burst of relabelled sent mail
PROFILE_VERSION = 2  # 2: learned only from mail in Sent (1 also believed a From of the user's address)


class UserProfile(BaseModel):
    """Who the user is, whom they care about and what they work on: learned only from the mail the
    provider files under Sent, editable (`edits`), used in triage and prompts."""

    version: int = Field(PROFILE_VERSION, description="The stored format; see `orchestrator.profile`")
    addresses: set[str] = Field(default_factory=set, description="The user's own addresses, lower case")
    vips: set[str] = Field(default_factory=set, description="Addresses the user marked important")
    sent_to: dict[str, int] = Field(
        default_factory=dict, description="Messages the user sent to each address"
    )
    replied_to: dict[str, int] = Field(
        default_factory=dict, description="Replies the user wrote to each address"
    )
    contact_names: dict[str, str] = Field(
        default_factory=dict, description="The name the user's own mail gives each address it wrote to"
    )
    name: str | None = Field(None, description="Learned from the From name and signature of sent mail")
    role: str | None = Field(None, description="Learned from the signature of sent mail")
    threads: dict[str, SentThread] = Field(default_factory=dict, description="Threads the user wrote in")
    learned_projects: list[Project] = Field(default_factory=list, description="What the project rule found")
    edits: ProfileEdits = Field(default_factory=ProfileEdits)
    learned_ids: list[str] = Field(
        default_factory=list, description="Provider ids of the latest sent mail learned (a replay is skipped)"
    )
    _known_people: object = PrivateAttr(None)  # `sender_trust`'s look-up tables, never stored
    # Sent mail changed the threads since `learned_projects` was found: the rule runs again when the
    # projects are read or stored, not per message (a first sync learns thousands of sent messages).
    _projects_stale: bool = PrivateAttr(False)

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        self.refresh_projects()
        return handler(self)

    def refresh_projects(self) -> None:
        """Run the project rule again if sent mail was learned since it last ran."""
        if self._projects_stale:
            self.learned_projects = learn_projects(self.threads.values())
            self._projects_stale = False

    def is_user(self, mailbox: Mailbox | None) -> bool:
        """Whether the address is one of the user's: says who a mailbox names, not who wrote."""
        return mailbox is not None and mailbox.email.lower() in self.addresses

    def has_written_to(self, address: str) -> bool:
        """Whether the user's sent mail went to `address` (a correspondent, not a stranger)."""
        address = address.lower()
        return self.sent_to.get(address, 0) > 0 or self.replied_to.get(address, 0) > 0

    def correspondents(self) -> set[str]:
        return {address for address in [*self.sent_to, *self.replied_to] if self.has_written_to(address)}

    def learn_from_sent(self, email: Email) -> bool:
        """Count the recipients of a message the user sent (and whether it was a reply); learn the
        user's name, role, projects and their contacts' names from it. Only mail the provider filed
        under Sent teaches (see `Email.in_sent`); anything else is refused, and so is a message learned
        lately (the feed's at-least-once delivery replays a page): returns whether it learned."""
        if not email.in_sent or email.id in self.learned_ids:
            return False
        self.learned_ids = [*self.learned_ids, email.id][-LEARNED_IDS_KEPT:]
        recipients = [mailbox.email.lower() for mailbox in [*email.to, *email.cc]]
        for address in recipients:
            self.sent_to[address] = self.sent_to.get(address, 0) + 1
            if email.in_reply_to:
                self.replied_to[address] = self.replied_to.get(address, 0) + 1
        for mailbox in [*email.to, *email.cc]:
            if mailbox.name and "@" not in mailbox.name:
                self.contact_names[mailbox.email.lower()] = " ".join(mailbox.name.split())[:100]
        name, role = identity_from_signature(email.signature, email.sender.name if email.sender else "")
        self.name, self.role = name or self.name, role or self.role
        self._learn_thread(email, recipients)
        return True

    def _learn_thread(self, email: Email, recipients: list[str]) -> None:
        key = email.thread_id or subject_topic(email.subject).lower()
        thread = self.threads.get(key) or SentThread(
            subject=subject_topic(email.subject), last_sent=email.date
        )
        thread.people = sorted({*thread.people, *recipients})
        thread.last_sent = max(thread.last_sent, email.date)
        self.threads[key] = thread
        if len(self.threads) > THREADS_KEPT:
            oldest = min(self.threads, key=lambda k: self.threads[k].last_sent)
            del self.threads[oldest]
        self._projects_stale = True

    @property
    def display_name(self) -> str | None:
        return self.edits.name or self.name

    @property
    def display_role(self) -> str | None:
        return self.edits.role or self.role

    def projects(self) -> list[Project]:
        """Learned projects as the user edited them (renamed, hidden), then the ones they added."""
        self.refresh_projects()
        shown = []
        for project in self.learned_projects:
            edit = self.edits.projects.get(project.key)
            if edit is None:
                shown.append(project)
            elif not edit.hidden:
                shown.append(project.model_copy(update={"name": edit.name, "aliases": edit.aliases}))
        learned = {project.key for project in self.learned_projects}
        shown += [
            Project(name=edit.name, aliases=edit.aliases, source="user")
            for key, edit in self.edits.projects.items()
            if edit.added and not edit.hidden and key not in learned
        ]
        return shown

    def active_projects(self, now: datetime) -> list[Project]:
        """Projects the user added, or wrote about in the last 30 days."""
        return [p for p in self.projects() if p.last_seen is None or now - p.last_seen <= ACTIVE_FOR]

    def project_about(self, email: Email, now: datetime) -> Project | None:
        """The first active project whose name or one of its aliases the subject or text names."""
        for project in self.active_projects(now):
            names = [project.name, *project.aliases]
            if any(mentions(email.subject, n) or mentions(email.text[:4000], n) for n in names):
                return project
        return None

    def describe(self, top: int = 8, now: datetime | None = None) -> str:
        """A few lines for a prompt, at most `DESCRIBE_LIMIT` characters: who the user is, whom they
        deal with most, what they work on and what they asked Pepper to remember."""
        frequent = sorted(
            self.sent_to, key=lambda address: -(self.sent_to[address] + self.replied_to.get(address, 0))
        )
        addresses = ", ".join(sorted(self.addresses)) or "unknown yet"
        lines = [f"The user's addresses: {addresses}."]
        if self.display_name:
            role = f", {self.display_role}" if self.display_role else ""
            lines = [f"The user: {self.display_name}{role} ({addresses})."]
        if self.vips:
            lines.append(f"VIPs (always important): {', '.join(sorted(self.vips))}.")
        if frequent:
            lines.append(f"People the user writes to most: {', '.join(frequent[:top])}.")
        projects = self.active_projects(now) if now else self.projects()
        if projects:
            lines.append("Projects: " + "; ".join(_project_line(p) for p in projects[:top]) + ".")
        if self.edits.notes:
            lines.append("The user asked you to remember: " + " / ".join(self.edits.notes[-5:]))
        text = "\n".join(line if len(line) <= 400 else line[:397] + "..." for line in lines)
        return text if len(text) <= DESCRIBE_LIMIT else text[: DESCRIBE_LIMIT - 3] + "..."

    def sender_importance(self, mailbox: Mailbox | None) -> float:
        """0 for strangers, growing with how often the user writes and replies to them; VIPs rank top."""
        if mailbox is None:
            return 0.0
        address = mailbox.email.lower()
        if address in self.vips:
            return 10.0
        return min(self.sent_to.get(address, 0) * 0.5 + self.replied_to.get(address, 0), 9.0)


def _project_line(project: Project) -> str:
    details = []
    if project.keywords:
        details.append(", ".join(project.keywords[:3]))
    if project.people:
        details.append("with " + ", ".join(project.people[:3]))
    if project.last_seen:
        details.append(f"last {project.last_seen:%d %b}")
    return project.name + (f" ({'; '.join(details)})" if details else "")

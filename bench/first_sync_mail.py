"""A generated mailbox for bench/first_sync.py: years of mail with the shape of a real one.

`build_mailbox(root, size, seed)` writes a Maildir++ tree of `size` messages ending now: about 60%
in the inbox, 25% archived, 10% sent by the user, 3% spam and 2% under a user label; 40% list or bulk
mail; replies threaded by In-Reply-To/References; text in English, German, French, Spanish and
Japanese; body sizes drawn from a log-normal (median ~1.5 kB, a long tail to ~60 kB); about 10%
HTML-only, 5% with an attachment (log-normal, median ~40 kB, at most 400 kB). Each file's mtime is
its received date (as Dovecot and mbsync keep it). Mail of the last two days is mostly unread, older
mail is read but for 1% left unread. The same seed gives the same mailbox.
"""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

__all__ = ["Mailbox", "build_mailbox", "probe_message"]

USER = "ada.lovelace@example.org"
YEARS = 3
PHRASES = {
    "en": [
        "Could you send me the updated figures before the meeting on Thursday?",
        "Thanks for the notes, I have added my comments to the draft.",
        "The release is planned for next week; please review the checklist.",
        "Let me know if the new schedule works for your team.",
    ],
    "de": [
        "Könntest du mir bitte die aktuellen Zahlen vor dem Termin am Donnerstag schicken?",
        "Danke für die Notizen, ich habe meine Kommentare im Entwurf ergänzt.",
        "Die Freigabe ist für nächste Woche geplant; bitte prüfe die Checkliste.",
    ],
    "fr": [
        "Pourrais-tu m'envoyer les chiffres à jour avant la réunion de jeudi ?",
        "Merci pour les notes, j'ai ajouté mes commentaires au brouillon.",
        "La mise en production est prévue la semaine prochaine ; merci de relire la liste.",
    ],
    "es": [
        "¿Podrías enviarme las cifras actualizadas antes de la reunión del jueves?",
        "Gracias por las notas, he añadido mis comentarios al borrador.",
        "El lanzamiento está previsto para la próxima semana; revisa la lista, por favor.",
    ],
    "ja": [
        "木曜日の会議の前に最新の数字を送っていただけますか。",
        "メモをありがとうございます。下書きにコメントを追加しました。",
        "リリースは来週の予定です。チェックリストを確認してください。",
    ],
}
LANGUAGES = ["en"] * 6 + ["de", "fr", "es", "ja"]
TOPICS = ["budget", "roadmap", "hiring", "offsite", "quarterly report", "migration", "launch", "contract"]
LISTS = ["python-dev", "announce", "weekly-digest", "build-bot", "offers", "community"]
FOLDERS = [("", 0.60), ("Archive", 0.25), ("Sent", 0.10), ("Spam", 0.03), ("Projects", 0.02)]


@dataclass
class Mailbox:
    """What was written, for the bench to check against."""

    root: Path
    size: int
    newest: float  # epoch of the newest message (the mailbox's "now" at generation)
    received: dict[str, float] = field(default_factory=dict)  # key -> received epoch
    unread: set[str] = field(default_factory=set)
    folders: dict[str, str] = field(default_factory=dict)  # key -> folder

    def needs_triage(self, now: float, days: float = 14.0, unread: bool = True) -> set[str]:
        """The keys Pepper should triage at `now`: received within `days` (or, with `unread`, unread),
        and not sent."""
        since = now - days * 86400
        return {
            key
            for key, at in self.received.items()
            if self.folders[key] != "Sent" and (at >= since or (unread and key in self.unread))
        }

    def save(self) -> None:
        state = {"size": self.size, "newest": self.newest, "received": self.received,
                 "unread": sorted(self.unread), "folders": self.folders}  # fmt: skip
        (self.root / "bench-mailbox.json").write_text(json.dumps(state))

    @classmethod
    def load(cls, root: Path) -> Mailbox | None:
        try:
            state = json.loads((root / "bench-mailbox.json").read_text())
        except (OSError, ValueError):
            return None
        return cls(
            root, state["size"], state["newest"], state["received"], set(state["unread"]), state["folders"]
        )


def _body(rng: random.Random, language: str, topic: str) -> str:
    target = min(int(math.exp(rng.gauss(math.log(1500), 0.9))), 60_000)
    lines = [f"{topic.capitalize()}:"]
    while sum(len(line) for line in lines) < target:
        lines.append(rng.choice(PHRASES[language]))
    return "\n".join(lines) + "\n"


def _message(rng: random.Random, index: int, at: datetime, folder: str, thread: dict) -> EmailMessage:
    language = rng.choice(LANGUAGES)
    topic = rng.choice(TOPICS)
    message = EmailMessage()
    person = f"person{rng.randrange(400)}@{rng.choice(['example.org', 'example.com', 'beispiel.de'])}"
    bulk = folder != "Sent" and rng.random() < 0.4
    if folder == "Sent":
        message["From"], message["To"] = f"Ada Lovelace <{USER}>", person
    elif bulk:
        name = rng.choice(LISTS)
        message["From"], message["To"] = f"{name} <{name}@lists.example.net>", USER
        message["List-Id"] = f"<{name}.lists.example.net>"
        message["List-Unsubscribe"] = f"<mailto:leave-{name}@lists.example.net>"
        message["Precedence"] = "list"
    else:
        message["From"], message["To"] = person, USER
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<bench{index}@example.org>"
    subject = f"{topic} ({language}) #{index % 997}"
    if not bulk and thread and rng.random() < 0.3:  # a reply in an earlier conversation
        parent = rng.choice(list(thread))
        message["In-Reply-To"], message["References"] = parent, parent
        subject = f"Re: {thread[parent]}"
    elif not bulk:
        thread[message["Message-ID"]] = subject
        if len(thread) > 500:
            thread.pop(next(iter(thread)))
    message["Subject"] = subject
    _fill(message, rng, _body(rng, language, topic))
    return message


def _fill(message: EmailMessage, rng: random.Random, body: str) -> None:
    roll = rng.random()
    if roll < 0.10:  # HTML-only
        paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines())
        message.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
        return
    message.set_content(body)
    if roll > 0.95:  # an attachment
        size = min(int(math.exp(rng.gauss(math.log(40_000), 1.0))), 400_000)
        message.add_attachment(
            rng.randbytes(size), maintype="application", subtype="pdf", filename="report.pdf"
        )


def _folder(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for folder, share in FOLDERS:
        total += share
        if roll < total:
            return folder
    return ""


def build_mailbox(root: Path, size: int, seed: int = 16, now: datetime | None = None) -> Mailbox:
    """Write the mailbox (see the module docstring) and return what it holds."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    span = YEARS * 365 * 86400
    ages = sorted((rng.random() ** 1.6 * span for _ in range(size)), reverse=True)  # denser recently
    mailbox = Mailbox(root, size, now.timestamp())
    thread: dict[str, str] = {}
    for index, age in enumerate(ages):
        at = now - timedelta(seconds=age)
        folder = _folder(rng)
        message = _message(rng, index, at, folder, thread)
        unread = folder not in ("Sent",) and (age < 2 * 86400 and rng.random() < 0.7 or rng.random() < 0.01)
        key = f"{int(at.timestamp())}.M{index}P{seed}.bench"
        _write(root, folder, key, bytes(message), unread, at.timestamp())
        mailbox.received[key], mailbox.folders[key] = at.timestamp(), folder
        if unread:
            mailbox.unread.add(key)
    mailbox.save()
    return mailbox


def _write(root: Path, folder: str, key: str, raw: bytes, unread: bool, at: float) -> Path:
    base = root / f".{folder}" if folder else root
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    path = base / "cur" / f"{key}:2,{'' if unread else 'S'}"
    path.write_bytes(raw)
    os.utime(path, (at, at))
    return path


def probe_message(root: Path, index: int) -> str:
    """Deliver a new, urgent-looking message into the inbox (as a delivery agent does); its key."""
    message = EmailMessage()
    message["From"], message["To"] = "Grace Hopper <grace@example.org>", USER
    message["Subject"] = f"Urgent: sign the contract today ({index})"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<probe{index}.{os.getpid()}@example.org>"
    message.set_content("Could you sign the contract today before 5pm? It is urgent.\n")
    key = f"{datetime.now(UTC).timestamp():.0f}.P{os.getpid()}Q{index}.probe"
    (root / "tmp" / key).write_bytes(bytes(message))
    os.rename(root / "tmp" / key, root / "new" / key)
    return key

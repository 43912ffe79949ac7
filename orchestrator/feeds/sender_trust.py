"""Whether an email's sender is someone the user knows, and whether its From can be believed.

A From header is written by the sender, so it proves nothing by itself. A sender is *known* when the
user marked the address a VIP or wrote to it (learned from the Sent folder only, see
`UserProfile.learn_from_sent`), and *trusted* when known and nothing says the From is forged. Signs of
a forged or borrowed identity, each a reason the triage shows:

- failed sender authentication: the receiving server's Authentication-Results or Received-SPF say
  `spf=fail|softfail`, `dkim=fail` or `dmarc=fail` (unless DMARC passed, which vouches for the From's
  domain whatever a forwarder did to SPF or a list to one DKIM signature);
- the user's own address in the From of mail that did not come from the Sent folder (about one spam
  message in twenty does this): a stranger, and a forgery when authentication failed;
- a display name of a contact, or of the user, on an address the user never wrote to;
- an address that resembles a known one without being it: the same local part at a near-identical
  domain (`brlghtstack.example`, `pepper-example.com` for `pepper.example`), or the same letters once
  look-alikes are folded (`0`→`o`, `rn`→`m`, dots and dashes dropped).

Only a trusted sender's urgency words and deadlines raise priority (see `triage_rules`).
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, Field

from orchestrator.feeds.mail import Email, UserProfile

__all__ = ["SenderTrust", "resembles", "sender_trust"]

LOOK_ALIKES = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("3", "e"), ("5", "s"))
SEPARATORS = re.compile(r"[.\-_+]")
NEAR_DOMAIN = 2  # edits that still make a domain a look-alike of a known one


class SenderTrust(BaseModel):
    """What the user's history and the receiving servers say about an email's sender."""

    address: str = Field("", description="The From address, lower case ('' when there is none)")
    vip: bool = Field(False, description="The user marked this address important")
    corresponded: bool = Field(False, description="The user's Sent mail went to this address")
    own_address: bool = Field(False, description="The From is the user's address on mail not from Sent")
    suspicious: list[str] = Field(default_factory=list, description="Why the From should not be believed")
    importance: float = Field(0.0, description="The profile's sender importance; 0 unless trusted")

    @property
    def known(self) -> bool:
        return self.vip or self.corresponded

    @property
    def trusted(self) -> bool:
        """Known, and no sign that someone else wrote the From."""
        return self.known and not self.suspicious


def sender_trust(email: Email, profile: UserProfile) -> SenderTrust:
    """Judge the sender of `email` against what the user's own mail taught `profile`."""
    if email.sender is None:
        return SenderTrust()
    address = email.sender.email.lower()
    own = profile.is_user(email.sender) and not email.in_sent
    trust = SenderTrust(
        address=address,
        own_address=own,
        vip=not own and address in profile.vips,
        corresponded=not own and profile.has_written_to(address),
    )
    failures = email.authentication.failures()
    if failures:
        who = "the user's own address" if own else "a contact" if trust.known else "the sender"
        trust.suspicious.append(f"sender authentication failed ({', '.join(failures)}) for {who}")
    if not trust.known and not own:
        trust.suspicious += _borrowed_identity(email.sender.name, address, profile)
    if trust.trusted:
        trust.importance = profile.sender_importance(email.sender)
    return trust


def _borrowed_identity(name: str, address: str, profile: UserProfile) -> list[str]:
    """Signs that an unknown address poses as someone the user knows."""
    found = []
    people = _known_people(profile)
    shown = _folded_name(name)
    if shown and len(shown.split()) >= 2:
        if shown == _folded_name(profile.display_name or ""):
            found.append(f"uses the user's own name on {address}, an address that is not theirs")
        elif contact := people.by_name.get(shown):
            found.append(
                f"uses the name of a contact ({name.strip()}, {contact}) on an address the user never wrote to"
            )
    if similar := people.resembling(address):
        found.append(f"the address {address} resembles {similar}, a known address")
    return found


class KnownPeople:
    """The user's known addresses indexed for look-alike checks (by folded letters and by local
    part) and their contacts by name: one dictionary look-up per email instead of a scan."""

    def __init__(self, profile: UserProfile) -> None:
        self.key = _people_key(profile)
        known = sorted(profile.correspondents() | profile.vips | profile.addresses)
        self.by_skeleton: dict[str, str] = {}
        self.by_local: dict[str, list[str]] = {}
        for address in known:
            self.by_skeleton.setdefault(_skeleton(address), address)
            self.by_local.setdefault(address.rpartition("@")[0], []).append(address)
        self.by_name: dict[str, str] = {}
        for address, name in sorted(profile.contact_names.items()):
            self.by_name.setdefault(_folded_name(name), address)

    def resembling(self, address: str) -> str | None:
        """A known address that `address` imitates (see `resembles`), if any."""
        twin = self.by_skeleton.get(_skeleton(address))
        if twin is not None and twin != address:
            return twin
        local = address.rpartition("@")[0]
        return next((known for known in self.by_local.get(local, []) if resembles(address, known)), None)


def _people_key(profile: UserProfile) -> tuple:
    # Learning only adds correspondents and names; VIPs and addresses may also lose one.
    return (
        len(profile.sent_to),
        len(profile.replied_to),
        len(profile.contact_names),
        tuple(sorted(profile.vips)),
        tuple(sorted(profile.addresses)),
    )


def _known_people(profile: UserProfile) -> KnownPeople:
    people = profile._known_people
    if not isinstance(people, KnownPeople) or people.key != _people_key(profile):
        people = profile._known_people = KnownPeople(profile)
    return people


def resembles(address: str, known: str) -> bool:
    """Whether `address` imitates `known` (another address): equal once look-alikes are folded, or
    the same local part at a domain a couple of edits away, with the same first label, or that
    extends the known domain's letters."""
    address, known = address.lower(), known.lower()
    if address == known or "@" not in address or "@" not in known:
        return False
    local, _, domain = address.rpartition("@")
    known_local, _, known_domain = known.rpartition("@")
    if _skeleton(address) == _skeleton(known):
        return True
    if local != known_local:
        return False
    same_first_label = _skeleton(domain.split(".")[0]) == _skeleton(known_domain.split(".")[0])
    extended = _skeleton(domain).startswith(_skeleton(known_domain))  # pepper.example -> pepper-example.com
    return same_first_label or extended or _edits(domain, known_domain, NEAR_DOMAIN + 1) <= NEAR_DOMAIN


def _skeleton(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    folded = SEPARATORS.sub("", folded)
    for look_alike, letter in LOOK_ALIKES:
        folded = folded.replace(look_alike, letter)
    return folded


def _folded_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().replace('"', "").split())


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between `a` and `b`, or `limit` once it reaches it (short strings)."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        if min(current) >= limit:
            return limit
        previous = current
    return min(previous[-1], limit)

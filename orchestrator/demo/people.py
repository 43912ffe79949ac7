"""The cast of the demo: the user, their manager, two VIPs, colleagues, outside contacts and senders.

Everyone lives on invented domains (`pepper.demo` for the user's company, `.example` elsewhere), so
no generated message can ever reach a real person. Each person carries the signature block their
mail ends with; the variety (RFC 3676 `-- ` delimiters, phone sign-offs, none at all) is deliberate,
because real mail looks like that and the gmail server's reply splitter has to cope with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr

__all__ = [
    "CEO",
    "CLIENT",
    "COLLEAGUES",
    "DEMO_TIMEZONE",
    "DEMO_USER",
    "DEMO_USER_ADDRESS",
    "DEMO_USER_NAME",
    "EXTERNALS",
    "MANAGER",
    "VIPS",
    "LAWYER",
    "Person",
    "USER",
    "VENDOR",
]

DEMO_USER_NAME = "Alex Morgan"
DEMO_USER_ADDRESS = "alex@pepper.demo"
DEMO_USER = formataddr((DEMO_USER_NAME, DEMO_USER_ADDRESS))
DEMO_TIMEZONE = "Europe/London"


@dataclass(frozen=True)
class Person:
    """Someone who writes or receives demo mail."""

    name: str
    email: str
    role: str = ""
    signature: str = ""

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]

    def header(self) -> str:
        return formataddr((self.name, self.email))


def _company_signature(name: str, role: str) -> str:
    return f"-- \n{name}\n{role} · Pepper Demo Co.\nhttps://pepper.demo"


def _colleague(name: str, local: str, role: str, signature: str | None = None) -> Person:
    sig = _company_signature(name, role) if signature is None else signature
    return Person(name, f"{local}@pepper.demo", role, sig)


USER = _colleague(DEMO_USER_NAME, "alex", "Head of Product", f"-- \n{DEMO_USER_NAME}\nHead of Product")
MANAGER = _colleague("Jordan Blake", "jordan.blake", "VP Product", "Sent from my iPhone")
CEO = _colleague("Dana Whitfield", "dana", "CEO", "-- \nDana")
CLIENT = Person(
    "Priya Raman",
    "priya.raman@northwind.example",
    "Director of Operations, Northwind Traders",
    "-- \nPriya Raman\nDirector of Operations | Northwind Traders\n+44 20 7946 0321",
)
VIPS = (CEO, CLIENT)

SAM = _colleague("Sam Patel", "sam.patel", "Engineering Lead")
ZOE = _colleague("Zoë Laurent", "zoe.laurent", "Design Lead")
MARCUS = _colleague("Marcus Chen", "marcus.chen", "Data Analyst")
AISHA = _colleague("Aisha Okafor", "aisha.okafor", "Product Marketing Manager", "")
TOM = _colleague("Tom Fischer", "tom.fischer", "Finance Business Partner")
LENA = _colleague("Lena Novak", "lena.novak", "Customer Success Manager", "Sent from my Pixel")
RAJ = _colleague("Raj Iyer", "raj.iyer", "Senior Backend Engineer", "-- \nRaj")
CHRIS = _colleague("Chris Doyle", "chris.doyle", "Talent Partner")
COLLEAGUES = (SAM, ZOE, MARCUS, AISHA, TOM, LENA, RAJ, CHRIS)

VENDOR = Person(
    "Ben Carter",
    "ben.carter@brightstack.example",
    "Account Executive, BrightStack",
    "-- \nBen Carter | Account Executive\nBrightStack — analytics for product teams",
)
LAWYER = Person(
    "Elena Rossi", "elena@rossi-legal.example", "Counsel", "Kind regards,\nElena Rossi\nRossi Legal LLP"
)
EXTERNALS = (VENDOR, LAWYER)

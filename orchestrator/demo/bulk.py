"""Newsletters: daily and weekly bulk mail with HTML alternatives and the headers lists carry.

Bulk mail is much of a real inbox and the part triage should push down, so it carries what real
bulk mail carries: `List-Unsubscribe` (with the one-click `List-Unsubscribe-Post`), `List-Id` and
`Precedence: bulk`, plus an HTML alternative with a tracking pixel. `notices` reuses the headers.
"""

from __future__ import annotations

import html

from orchestrator.demo.mime import Mail
from orchestrator.demo.people import USER, Person
from orchestrator.demo.timeline import Timeline

__all__ = ["list_headers", "newsletters"]

NEWSLETTERS = [
    (Person("The Morning Brief", "news@morningbrief.example"), "daily", "daily.morningbrief.example"),
    (Person("Product Notes", "hello@productnotes.example"), "weekly", "weekly.productnotes.example"),
    (Person("Design Digest", "digest@designdigest.example"), "weekly", "digest.designdigest.example"),
    (Person("Cloud Cost Weekly", "newsletter@cloudcost.example"), "weekly", "ccw.cloudcost.example"),
]
COMPANIES = ["Loomly", "Tandem", "Quarry", "Fathom", "Brightline", "Orbit Labs", "Kestrel", "Nimbus"]
VERBS = ["rebuild", "simplify", "automate", "rethink", "scale", "secure"]
NOUNS = ["onboarding", "billing", "customer research", "release notes", "pricing pages", "data pipelines"]
HEADLINES = [
    "{company} raises ${n}M to {verb} {noun}",
    "How {company} cut churn by {p}% with better {noun}",
    "The case against roadmaps, revisited",
    "{n} lessons from shipping {noun} at {company}",
    "Why your {noun} metrics are lying to you",
    "Interview: {company}'s head of product on {noun}",
    "What we learned from {n} customer interviews",
    "A field guide to pricing experiments",
]


def _headline(timeline: Timeline) -> str:
    rng = timeline.rng
    return rng.choice(HEADLINES).format(
        company=rng.choice(COMPANIES),
        verb=rng.choice(VERBS),
        noun=rng.choice(NOUNS),
        n=rng.randint(3, 120),
        p=rng.randint(5, 40),
    )


def list_headers(sender: Person, list_id: str, name: str) -> dict[str, str]:
    return {
        "List-Id": f"{name} <{list_id}>",
        "List-Unsubscribe": f"<https://{sender.domain}/unsubscribe?list={list_id}>, "
        f"<mailto:unsubscribe@{sender.domain}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }


def _newsletter(timeline: Timeline, sender: Person, list_id: str, issue: int, days_ago: int) -> Mail:
    stories = [_headline(timeline) for _ in range(4)]
    slug = sender.domain.split(".")[0]
    links = [f"https://{sender.domain}/issues/{issue}/{index + 1}" for index in range(len(stories))]
    text = "\n\n".join(
        f"{index + 1}. {story}\n   {link}"
        for index, (story, link) in enumerate(zip(stories, links, strict=True))
    )
    footer = (
        f"You are receiving this because you subscribed to {sender.name}.\n"
        f"Unsubscribe: https://{sender.domain}/unsubscribe?list={list_id}"
    )
    body = f"{sender.name} — issue #{issue}\n\nIn this issue:\n\n{text}\n\n{footer}\n"
    items = "".join(
        f'<tr><td style="padding:12px 0"><a href="{link}" style="font-size:18px;color:#1a1a2e">'
        f"{html.escape(story)}</a></td></tr>"
        for story, link in zip(stories, links, strict=True)
    )
    page = (
        '<!DOCTYPE html><html><body style="font-family:Helvetica,Arial,sans-serif;background:#f4f4f7">'
        f'<table width="600" align="center" style="background:#fff;padding:24px"><tr><td>'
        f'<h1 style="color:#e94560">{html.escape(sender.name)}</h1><p>Issue #{issue}</p></td></tr>'
        f'{items}<tr><td style="font-size:12px;color:#888">{html.escape(footer.splitlines()[0])} '
        f'<a href="https://{sender.domain}/unsubscribe?list={list_id}">Unsubscribe</a></td></tr>'
        f'</table><img src="https://{sender.domain}/open/{slug}-{issue}.gif" width="1" height="1" alt="">'
        "</body></html>"
    )
    date = timeline.at(days_ago, 6, timeline.rng.randint(0, 59))
    return Mail(
        sender=sender,
        to=[USER],
        subject=f"{sender.name} #{issue}: {stories[0]}",
        date=date,
        body=body,
        html=page,
        message_id=timeline.message_id(sender.domain),
        headers=list_headers(sender, list_id, sender.name),
    )


def newsletters(timeline: Timeline, weeks: int) -> list[Mail]:
    """Daily and weekly newsletters over the last `weeks` weeks, up to today."""
    mails = []
    for sender, cadence, list_id in NEWSLETTERS:
        weekday = timeline.rng.randrange(5)
        issue = timeline.rng.randint(40, 300)
        for days_ago in range(weeks * 7, -1, -1):
            day = timeline.day(-days_ago)
            due = day.weekday() < 5 if cadence == "daily" else day.weekday() == weekday
            if due:
                issue += 1
                mails.append(_newsletter(timeline, sender, list_id, issue, days_ago))
    return mails

"""Machine mail: code-review and tracker notifications, receipts, and account notices.

Notifications come from no-reply senders with `List-Id` and `Precedence: list`; the ones about one
pull request thread together as GitHub's do (`In-Reply-To` and `References` point at the request's
first notification). Receipts are transactional: no list headers, but a no-reply or receipts sender,
an order number and an amount, some with an HTML version.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.demo.mime import Mail
from orchestrator.demo.people import COLLEAGUES, USER, Person
from orchestrator.demo.timeline import Timeline

__all__ = ["notifications", "receipts"]

CODEHUB = Person("CodeHub", "notifications@codehub.example")
TRACKLY = Person("Trackly", "no-reply@trackly.example")
SECURITY = Person("Pepper Demo IT", "no-reply@it.pepper.demo")
PR_TITLES = [
    "Add usage alerts to the workspace settings",
    "Speed up CSV import for large files",
    "Fix timezone handling in weekly digests",
    "Audit log: record permission changes",
    "Bulk export: stream results instead of buffering",
    "Onboarding checklist behind a feature flag",
]
PR_EVENTS = [
    "{who} requested your review on this pull request.",
    "{who} commented:\n\n> Looks good overall. Could we add a test for the empty-file case?",
    "{who} pushed 2 commits.",
    "{who} approved these changes.",
    "Merged #{number} into main.",
]
TICKETS = [
    "Customers cannot reset SSO configuration",
    "Pricing page shows the old annual discount",
    "Export times out for workspaces over 10k rows",
    "Add Northwind to the early-access list",
    "Mobile: notification badge does not clear",
]


def _notice(
    timeline: Timeline, sender: Person, subject: str, body: str, when: datetime, list_id: str
) -> Mail:
    return Mail(
        sender=sender,
        to=[USER],
        subject=subject,
        date=when,
        body=body,
        message_id=timeline.message_id(sender.domain),
        headers={
            "List-Id": list_id,
            "List-Unsubscribe": f"<https://{sender.domain}/notifications/unsubscribe>",
            "Precedence": "list",
            "Auto-Submitted": "auto-generated",
        },
    )


def _pull_request(timeline: Timeline, number: int, title: str, days_ago: int) -> list[Mail]:
    rng = timeline.rng
    author = rng.choice(COLLEAGUES)
    list_id = "pepper-demo/app <app.pepper-demo.codehub.example>"
    subject = f"[pepper-demo/app] {title} (PR #{number})"
    url = f"https://codehub.example/pepper-demo/app/pull/{number}"
    when = timeline.at(days_ago, rng.randint(9, 17), rng.randint(0, 59))
    mails: list[Mail] = []
    for event in PR_EVENTS[: rng.randint(2, len(PR_EVENTS))]:
        who = author.name if not mails or "requested" in event else rng.choice(COLLEAGUES).name
        text = f"{event.format(who=who, number=number)}\n\n— \nView it on CodeHub: {url}\n"
        text += "You are receiving this because your review was requested.\n"
        mail = _notice(timeline, CODEHUB, subject if not mails else f"Re: {subject}", text, when, list_id)
        if mails:
            mail.in_reply_to = mails[0].message_id
            mail.references = [mails[0].message_id]
        mails.append(mail)
        later = when + timedelta(hours=rng.randint(1, 20))
        when = later if later < timeline.now else when + (timeline.now - when) / 2  # never from the future
    return mails


def _ticket(timeline: Timeline, key: int, title: str, days_ago: int) -> Mail:
    who = timeline.rng.choice(COLLEAGUES)
    body = (
        f"{who.name} assigned ATL-{key} to you.\n\n{title}\nPriority: {timeline.rng.choice(['Low', 'Medium', 'High'])}\n"
        f"Status: To do\n\nOpen in Trackly: https://trackly.example/pepper-demo/ATL-{key}\n"
    )
    when = timeline.at(days_ago, timeline.rng.randint(9, 18), timeline.rng.randint(0, 59))
    list_id = "Pepper Demo Atlas <atlas.pepper-demo.trackly.example>"
    return _notice(timeline, TRACKLY, f"[ATL-{key}] {title}", body, when, list_id)


def _security(timeline: Timeline, days_ago: int) -> Mail:
    body = (
        "A new sign-in to your Pepper Demo Co. account was detected.\n\n"
        "Device: MacBook Pro · Chrome\nLocation: London, United Kingdom\n\n"
        "If this was you, you can ignore this message. If not, reset your password at\n"
        "https://it.pepper.demo/security\n"
    )
    when = timeline.at(days_ago, 8, timeline.rng.randint(0, 59))
    return Mail(
        SECURITY, [USER], "New sign-in to your account", when, body, timeline.message_id(SECURITY.domain)
    )


def notifications(timeline: Timeline, weeks: int) -> list[Mail]:
    """Pull requests, tickets and account notices over the last `weeks` weeks."""
    rng = timeline.rng
    mails: list[Mail] = []
    for index in range(weeks * 3):
        title = PR_TITLES[index % len(PR_TITLES)]
        mails.extend(_pull_request(timeline, 400 + index * 3, title, rng.randint(0, weeks * 7)))
    for index in range(weeks * 2):
        mails.append(
            _ticket(timeline, 1200 + index * 7, TICKETS[index % len(TICKETS)], rng.randint(0, weeks * 7))
        )
    mails.extend(_security(timeline, days_ago) for days_ago in (weeks * 7 - 3, 9))
    return mails


RECEIPTS = [
    (Person("Bean There Coffee", "receipts@beanthere.example"), "Your receipt from Bean There Coffee", 3, 9),
    (Person("Zipride", "no-reply@zipride.example"), "Your {weekday} evening trip with Zipride", 11, 34),
    (
        Person("CloudNimbus Billing", "billing@cloudnimbus.example"),
        "Your CloudNimbus invoice is available",
        40,
        180,
    ),
    (Person("Paperly", "orders@paperly.example"), "Order confirmation #{order}", 15, 80),
]


def _receipt(timeline: Timeline, sender: Person, subject: str, low: int, high: int, days_ago: int) -> Mail:
    rng = timeline.rng
    amount = f"£{rng.randint(low, high)}.{rng.randint(0, 99):02d}"
    order = f"{rng.randint(100000, 999999)}"
    when = timeline.at(days_ago, rng.randint(7, 21), rng.randint(0, 59))
    subject = subject.format(weekday=when.strftime("%A"), order=order)
    body = (
        f"Thanks for your purchase, {USER.first}.\n\nReceipt no. {order}\nDate: {when:%d %B %Y}\n"
        f"Total charged: {amount} to Visa ending 4242\n\nQuestions? Reply to support@{sender.domain}\n"
    )
    html_body = (
        f'<html><body style="font-family:sans-serif"><h2>{sender.name}</h2><p>Thanks for your purchase, '
        f"{USER.first}.</p><table><tr><td>Receipt</td><td>{order}</td></tr><tr><td>Total</td>"
        f"<td><b>{amount}</b></td></tr></table></body></html>"
    )
    return Mail(
        sender,
        [USER],
        subject,
        when,
        body,
        timeline.message_id(sender.domain),
        html=html_body if rng.random() < 0.6 else None,
    )


def receipts(timeline: Timeline, weeks: int) -> list[Mail]:
    """Coffee, rides, invoices and orders over the last `weeks` weeks."""
    rng = timeline.rng
    mails = []
    for sender, subject, low, high in RECEIPTS:
        for _ in range(rng.randint(2, 5) if low < 30 else 1):
            mails.append(_receipt(timeline, sender, subject, low, high, rng.randint(1, weeks * 7)))
    return mails

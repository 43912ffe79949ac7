"""The deadline detector finds a cue and a date a reader would put in the diary, and nothing else.

Every clock is pinned: a Saturday, a Sunday at a month's end, New Year's Eve, the end of February,
an ordinary Wednesday; mail dates carry their own timezone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from orchestrator.triage.date_expressions import fold, read_span
from orchestrator.triage.deadlines import find_deadlines

SATURDAY = datetime(2026, 10, 17, 15, 0, tzinfo=UTC)
SUNDAY_MONTH_END = datetime(2026, 5, 31, 20, 0, tzinfo=timezone(timedelta(hours=2)))
NEW_YEARS_EVE = datetime(2026, 12, 31, 11, 0, tzinfo=timezone(timedelta(hours=-5)))  # a Thursday
FEBRUARY_END = datetime(2027, 2, 26, 9, 0, tzinfo=UTC)  # a Friday, 2027 is no leap year
WEDNESDAY = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)


def days(text: str, sent: datetime, *, trusted: bool = False) -> list[date]:
    return [deadline.due.date() for deadline in find_deadlines(text, sent, trusted=trusted)]


@pytest.mark.parametrize(
    ("text", "sent", "due"),
    [
        ("Could you send over the slides by Tuesday?", SATURDAY, date(2026, 10, 20)),
        ("Quotes are due Monday morning.", SATURDAY, date(2026, 10, 19)),
        ("I need the summary by end of next week.", SATURDAY, date(2026, 10, 23)),
        ("Finish by EOW please.", SATURDAY, date(2026, 10, 23)),
        ("Send by tomorrow noon.", SATURDAY, date(2026, 10, 18)),
        ("We need this by next Friday.", WEDNESDAY, date(2026, 4, 24)),
        ("Hand it in by Thursday 5 pm.", WEDNESDAY, date(2026, 4, 16)),
        ("Get back to me by COB Friday.", WEDNESDAY, date(2026, 4, 17)),
    ],
)
def test_find_deadlines_reads_weekdays_from_the_mails_own_day(text: str, sent: datetime, due: date) -> None:
    assert days(text, sent) == [due]


@pytest.mark.parametrize(
    ("text", "sent", "due"),
    [
        ("Please file the claim by end of month.", SUNDAY_MONTH_END, date(2026, 5, 31)),
        ("Please file the claim by the end of next month.", SUNDAY_MONTH_END, date(2026, 6, 30)),
        ("Please reply by the end of the month.", FEBRUARY_END, date(2027, 2, 28)),
        ("Let me have your edits by the 2nd.", SATURDAY, date(2026, 11, 2)),
        ("Pay by the 5th.", NEW_YEARS_EVE, date(2027, 1, 5)),
        ("Send it before January 8.", NEW_YEARS_EVE, date(2027, 1, 8)),
        ("Taxes are due by April 15.", NEW_YEARS_EVE, date(2027, 4, 15)),
        ("Get it to me by 9am tomorrow.", NEW_YEARS_EVE, date(2027, 1, 1)),
        ("Finish it by end of year.", NEW_YEARS_EVE, date(2026, 12, 31)),
        ("Due end of Q1.", NEW_YEARS_EVE, date(2027, 3, 31)),
        ("Kindly respond no later than Wednesday 3 June.", SUNDAY_MONTH_END, date(2026, 6, 3)),
    ],
)
def test_find_deadlines_crosses_month_and_year_ends(text: str, sent: datetime, due: date) -> None:
    assert days(text, sent) == [due]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Please sign by 10/30.", date(2026, 10, 30)),  # only month/day makes sense
        ("Please sign by 30/10.", date(2026, 10, 30)),  # only day/month makes sense
        ("Review due 10/19.", date(2026, 10, 19)),
        ("Due by 2026-11-02.", date(2026, 11, 2)),
        ("Rückmeldung bitte bis 03.11.2026.", date(2026, 11, 3)),
        ("Payment due 11/3/26.", date(2026, 11, 3)),  # 11 March 2026 is gone: November
    ],
)
def test_find_deadlines_reads_numeric_dates_either_way_round_only_where_one_fits(
    text: str, due: date
) -> None:
    assert days(text, SATURDAY) == [due]


def test_find_deadlines_drops_a_numeric_date_whose_both_readings_are_far() -> None:
    assert days("Please sign by 3/4.", SATURDAY) == []  # 4 March or 3 April 2027: neither is near


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Please reply within 2 business days.", datetime(2026, 10, 20, 15, 0, tzinfo=UTC)),
        ("Confirm within 24 hours, please.", datetime(2026, 10, 18, 15, 0, tzinfo=UTC)),
        ("Please send it in the next 10 days.", datetime(2026, 10, 27, 15, 0, tzinfo=UTC)),
        ("The report is due in 3 days.", datetime(2026, 10, 20, 15, 0, tzinfo=UTC)),
    ],
)
def test_find_deadlines_counts_spans_from_when_the_mail_was_sent(text: str, due: datetime) -> None:
    assert [deadline.due for deadline in find_deadlines(text, SATURDAY)] == [due]


def test_find_deadlines_ignores_a_span_that_promises_rather_than_asks() -> None:
    assert days("You will receive your card within 48 hours.", SATURDAY) == []


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Need the numbers by 4:30pm.", datetime(2027, 2, 26, 16, 30, tzinfo=UTC)),
        ("Please reply by 17:30.", datetime(2027, 2, 26, 17, 30, tzinfo=UTC)),
        ("Upload it before 11 o'clock.", datetime(2027, 2, 26, 11, 0, tzinfo=UTC)),
        ("Send the invoice today before 5.", datetime(2027, 2, 26, 17, 0, tzinfo=UTC)),
        ("Sign it Monday before noon.", datetime(2027, 3, 1, 12, 0, tzinfo=UTC)),
        ("Please send me the draft by EOD.", datetime(2027, 2, 26, 17, 0, tzinfo=UTC)),
    ],
)
def test_find_deadlines_keeps_the_time_of_day(text: str, due: datetime) -> None:
    assert [deadline.due for deadline in find_deadlines(text, FEBRUARY_END)] == [due]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Bitte bis Mittwoch antworten.", date(2027, 3, 3)),
        ("Bitte spätestens am 5. März einreichen.", date(2027, 3, 5)),
        ("Merci de me répondre avant lundi.", date(2027, 3, 1)),
        ("Envoyez le rapport d'ici le 10 mars.", date(2027, 3, 10)),
        ("Necesito el informe antes del viernes.", date(2027, 3, 5)),
        ("Por favor responde a más tardar el 2 de marzo.", date(2027, 3, 2)),
    ],
)
def test_find_deadlines_reads_german_french_and_spanish(text: str, due: date) -> None:
    assert days(text, FEBRUARY_END) == [due]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Your payment was due on Monday.", date(2027, 2, 22)),
        ("The deadline was February 1 and nothing arrived.", date(2027, 2, 1)),
        ("The fee was due yesterday.", date(2027, 2, 25)),
    ],
)
def test_find_deadlines_leaves_a_deadline_that_was_in_the_past(text: str, due: date) -> None:
    assert days(text, FEBRUARY_END) == [due]


@pytest.mark.parametrize(
    "text",
    [
        "Revenue grew by 12 last quarter.",
        "Upgrade by 3.2 is recommended.",
        "It went up by 5-10 points.",
        "Call us by 555-0199 anytime.",
        "Fixed by 4.1.2 and 4.1.3.",
        "Shrink by 1/3 in weeks!",
        "Priced at $19.99 before tax.",
        "Temperatures drop by 10 degrees by evening.",
        "Reviewed by Dana on Monday.",
        "We met before Easter.",
        "Due to the holiday we're closed.",
        "Please respond by 2019.",
        "The deadline was in 2019.",
        "Please answer by 1 May 2028.",  # more than a year ahead
    ],
)
def test_find_deadlines_takes_no_bare_number_or_far_date_for_a_deadline(text: str) -> None:
    assert days(text, WEDNESDAY) == []


@pytest.mark.parametrize(
    "text",
    [
        "Save 20% before Friday with this coupon!",
        "Win a trip! Enter by May 1.",
        "Order by Saturday for free shipping.",
    ],
)
def test_find_deadlines_ignores_sales_talk_from_an_untrusted_sender(text: str) -> None:
    assert days(text, WEDNESDAY) == []


def test_find_deadlines_reads_until_only_from_a_trusted_sender() -> None:
    text = "You have until Friday to send the corrections."
    assert days(text, WEDNESDAY) == []
    assert days(text, WEDNESDAY, trusted=True) == [date(2026, 4, 17)]
    assert days("Offer valid until April 30.", WEDNESDAY) == []
    assert days("Until tomorrow, Sam", WEDNESDAY, trusted=True) == []


def test_find_deadlines_reports_the_phrase_as_written_once_per_date() -> None:
    found = find_deadlines("Registration closes on May 4; register before May 4, Müller.", WEDNESDAY)
    assert [(deadline.phrase, deadline.due.date()) for deadline in found] == [
        ("closes on May 4", date(2026, 5, 4))
    ]


def test_find_deadlines_gives_the_due_moment_in_the_mails_timezone() -> None:
    [deadline] = find_deadlines("Please pay by Monday.", SUNDAY_MONTH_END)
    assert deadline.due == datetime(2026, 6, 1, 23, 59, tzinfo=SUNDAY_MONTH_END.tzinfo)


def test_fold_keeps_one_character_per_character() -> None:
    text = "Bis nächsten Freitag, d'ici à vendredi, mañana"
    assert len(fold(text)) == len(text)
    assert fold("Déjà VU") == "deja vu"


def test_read_span_skips_weekends_for_business_days() -> None:
    friday = datetime(2026, 10, 16, 9, 0, tzinfo=UTC)
    assert read_span("3 business days", 0, friday) == (datetime(2026, 10, 21, 9, 0, tzinfo=UTC), 15)


@pytest.mark.parametrize(
    "text",
    [
        "Drop by on Friday for cake.",  # a visit
        "The office closes at 5pm on Fridays.",  # a venue's hours, every week
        "The store closes at 6pm.",
        "Costs were cut by 5/8 this year.",  # an amount after a change verb
        "We ship every Friday, please send fixes by Thursdays.",
    ],
)
def test_find_deadlines_tells_visits_opening_hours_and_amounts_from_deadlines(text: str) -> None:
    assert days(text, WEDNESDAY) == []


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Please send it by the end of tomorrow.", date(2026, 4, 16)),
        ("Numbers by EOM, please.", date(2026, 4, 30)),
        ("Close the books by year-end.", date(2026, 12, 31)),
        ("Please reply by this coming Monday.", date(2026, 4, 20)),
        ("The rent was due last Friday.", date(2026, 4, 10)),
        ("Submit prior to May 3.", date(2026, 5, 3)),
        ("Please reply by 9 tonight.", date(2026, 4, 15)),
        ("Registration closes at 5pm.", date(2026, 4, 15)),
        ("Deadlines: 3 May for abstracts.", date(2026, 5, 3)),
        ("Please file by 2026/05/20.", date(2026, 5, 20)),
    ],
)
def test_find_deadlines_reads_other_common_wordings(text: str, due: date) -> None:
    assert days(text, WEDNESDAY) == [due]


@pytest.mark.parametrize("sent", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
def test_find_deadlines_reads_nothing_against_a_date_at_the_calendars_edge(sent: datetime) -> None:
    assert days("Please reply by Friday, within 3 days, by the 5th or by Jan 2.", sent) == []


@pytest.mark.parametrize(
    ("text", "phrase", "due"),
    [
        ("Friday at the latest, please.", "Friday at the latest", date(2026, 4, 17)),
        ("Thanks. Monday 5pm at the latest.", "Monday 5pm at the latest", date(2026, 4, 20)),
        ("Merci, vendredi au plus tard.", "vendredi au plus tard", date(2026, 4, 17)),
    ],
)
def test_find_deadlines_reads_a_cue_that_follows_the_date(text: str, phrase: str, due: date) -> None:
    assert [(d.phrase, d.due.date()) for d in find_deadlines(text, WEDNESDAY)] == [(phrase, due)]


def test_find_deadlines_ignores_at_the_latest_before_a_noun() -> None:
    assert days("We met Friday, at the latest news.", WEDNESDAY) == []


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Merci de répondre avant le 24.", date(2026, 4, 24)),
        ("Envíalo antes del 20, por favor.", date(2026, 4, 20)),
        ("Bitte bis zum 20. antworten.", date(2026, 4, 20)),
        ("Até o dia 22, por favor.", date(2026, 4, 22)),
        ("Please pay by the 10th of next month.", date(2026, 5, 10)),
        ("Bitte bis kommenden Freitag.", date(2026, 4, 17)),
        ("Bitte bis nächsten Freitag.", date(2026, 4, 24)),
    ],
)
def test_find_deadlines_reads_a_bare_day_after_an_article_and_this_or_next(text: str, due: date) -> None:
    assert days(text, WEDNESDAY) == [due]


@pytest.mark.parametrize(
    "text", ["Avant le 24 heures.", "Bis zum 1.000. Kunden.", "It was done by the 3 of us."]
)
def test_find_deadlines_takes_no_counted_thing_for_a_day_of_the_month(text: str) -> None:
    assert days(text, WEDNESDAY) == []


@pytest.mark.parametrize(
    "text", ["I am away until Monday.", "Ich bin bis Freitag im Urlaub.", "Out of office until May 4."]
)
def test_find_deadlines_reads_an_absence_as_no_deadline_even_from_a_trusted_sender(text: str) -> None:
    assert days(text, WEDNESDAY, trusted=True) == []


def test_find_deadlines_keeps_a_request_next_to_an_absence() -> None:
    text = "I am on leave next week, so please send it by Friday."
    assert days(text, WEDNESDAY) == [date(2026, 4, 17)]


@pytest.mark.parametrize(
    "text",
    [
        "Subscribe by Friday and save 40%.",
        "Claim your bonus before Friday!",
        "Add 2-3 inches by Friday, guaranteed!",
    ],
)
def test_find_deadlines_ignores_more_sales_talk_from_an_untrusted_sender(text: str) -> None:
    assert days(text, WEDNESDAY) == []


@pytest.mark.parametrize(
    ("text", "sent", "due"),
    [
        ("Please get it done by the weekend.", WEDNESDAY, date(2026, 4, 18)),
        ("Bitte bis zum Wochenende.", WEDNESDAY, date(2026, 4, 18)),
        ("Please get it done by the weekend.", SATURDAY, date(2026, 10, 24)),  # this one has begun
    ],
)
def test_find_deadlines_reads_the_weekend_as_its_saturday(text: str, sent: datetime, due: date) -> None:
    assert days(text, sent) == [due]

"""English: the words and patterns the conversation engine reads (on lower-case, typo-repaired text)."""

from __future__ import annotations

import re

from orchestrator.conversation.lang import Language, compile_all

__all__ = ["ENGLISH"]

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty five": 45,
}  # fmt: skip
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6,
}  # fmt: skip
UNITS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60, "hour": 3600, "hours": 3600,
    "hr": 3600, "hrs": 3600, "h": 3600, "day": 86400, "days": 86400,
}  # fmt: skip

WD = "(?P<wd>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")(?:'s)?"
MO = "(?P<mo>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
N = r"(?P<n>\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
UNIT = "(?P<unit>" + "|".join(sorted(UNITS, key=len, reverse=True)) + ")"
NOT_ITEM = r"(?! (?:one|card|item|e?mail|message|reminder)\b)"

DATE_PATTERNS = {
    # kind → patterns; dates.py knows what each kind's groups mean
    "week_of": (rf"\b{WD} next week\b",),
    "range": (
        r"\b(?P<this_week>(?:the )?rest of (?:the|this) week|this week)\b", r"\b(?P<next_weekend>next weekend)\b",
        r"\b(?P<next_week>next week)\b", r"\b(?P<this_weekend>this weekend)\b",
        r"\b(?:the )?next (?P<days>\d+|two|three|four|five|seven|ten) days\b", r"\b(?P<this_month>this month)\b",
    ),
    "delay": (rf"\b(?P<dir>in|for) (?:(?P<half>half an? )|{N} ?){UNIT}\b",),
    "ago": (rf"\b(?:in )?(?:the )?(?:last|past) (?:{N} )?{UNIT}\b",),
    "relative": (
        r"\b(?:the )?day after (?P<after_tomorrow>tomorrow)\b", r"\b(?P<tomorrow>tomorrow)(?:'s)?\b",
        r"\b(?P<today>today)(?:'s)?\b", r"\b(?P<tonight>tonight)\b", r"\b(?P<yesterday>yesterday)\b",
        r"\bthis (?P<part>morning|afternoon|evening)\b", r"\b(?P<last_night>last night)\b",
    ),
    "weekday": (
        rf"\b(?P<dir>next|this|since|last|on) {WD}\b", rf"\b{WD}\b",
    ),
    "month_day": (
        rf"\b{MO} (?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b", rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{MO}\b",
    ),
    "day_of_month": (rf"\b(?:on )?the (?P<day>\d{{1,2}})(?:st|nd|rd|th)\b{NOT_ITEM}", r"\bon the (?P<day>\d{1,2})\b"),
    "clock": (
        r"\b(?:at )?(?P<h>\d{1,2})(?::(?P<min>\d{2}))? ?(?P<ap>am|pm|a\.m\.|p\.m\.)(?!\w)",
        r"\b(?:at |to |for )?(?P<h>\d{1,2}):(?P<min>\d{2})\b",
        r"\b(?:at |for )?(?P<noon>noon|midday|midnight)\b",
        r"\bat (?P<h>\d{1,2})\b(?!:)",
    ),
    "part": (r"\b(?P<part>morning|afternoon|evening)\b",),
    "span": (r"\bbetween\b.*\band\b", r"\bfrom\b.*\b(?:to|until|till|through)\b"),
}  # fmt: skip

# The order matters: the first intent whose pattern matches wins.
INTENTS = [
    ("greeting", r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|thx|cheers)(?: pepper)?[\s!.]*$"),
    ("help", r"^(?:help\b|\?+$|what can you do|what commands|how do i use you|what can i ask|commands?$)"),
    ("reject", r"^(?:reject|decline)\b|^don'?t send (?:it|that|this)\b"),
    ("approve", r"^(?:go ahead and |yes,? )?approve\b"),
    ("pending", r"\bpending\b|^approvals?\b|\bto approve\b|\b(?:waiting for|needs?) my approval\b"),
    ("cancel_reminder", r"\b(?:cancel|delete|remove|drop|clear|unschedule|never ?mind|forget)\b.*\breminders?\b|\bstop reminding\b"),
    ("list_reminders", r"\breminders\b|\bhave a reminder\b|\bask(?:ed)? you to remind\b|\breminded of\b"),
    ("digest_time", r"\bwhat time\b.*\bdigest\b|\bwhen\b.*\bdigest\b|\bdigest\b.*\b(?:at|to|for|every|each)\b.*\d|\bdigest\b.*\bnoon\b|\bset digest\b"),
    ("digest_now", r"\bdigest\b|\bdaily summary\b"),
    ("remind_me", r"\bremind(?:er)?\b|\bping me\b|\bdon'?t let me forget\b"),
    ("correct_item", r"\bnot important\b|\bunimportant\b|\bisn'?t important\b|\bnever (?:show|from|again)\b|\bmute\b|\b(?:this|it|that|\d+|one) (?:is|was) important\b|\bmark\b.*\bimportant\b"),
    ("snooze_item", r"\bsnooze\b|\bpush (?:this|it|that)\b|\bput off\b|\bhide (?:this|it|that)\b|\blater for\b"),
    ("mark_read_item", r"\bmark\b.*\bread\b|\bas read\b|\bi'?ve read (?:it|this|that)\b"),
    ("mark_done_item", r"^(?:card |number |#)?\d{1,2} (?:is )?(?:done|finished|handled)\b|\bmark\b.*\b(?:done|complete)\b|\bdone with\b|\bthat'?s done\b|^done\b|\barchive (?:this|it|that)\b|\bdismiss\b|\bhandled\b|\bcheck off\b|\bclear the\b"),
    ("draft_reply", r"^(?:i need to |i want to |help me )?(?:draft|reply|respond|write back|write to|answer|email \w+ back|send \w+ an? (?:reply|response)|let \w+ know)\b|^tell (?!me\b|us\b)\w+"),
    ("waiting_on_me", r"\bwaiting (?:on|for) me\b|\bfrom me\b|\bkeeping waiting\b|\bi owe\b|\bowe people\b|\bneeds? my (?:reply|answer|response)\b|\bhaven'?t i answered\b|\bi need to respond\b|\bwants? something from me\b|\bquestions for me\b|\bwaiting for me\b|\bwaiting on me\b"),
    ("i_am_waiting_on", r"\bfollow ?-?ups?\b|\bfollowups?\b|\bwaiting on\b|\bam i waiting\b|\bwaiting for a reply\b|\bawaiting\b|\bhasn'?t replied\b|\bowes me\b|\bthat i sent\b|\bgot no answer\b|\breplied yet\b|\bchase\b|\boutstanding replies\b|\bdid \w+ (?:answer|reply|respond|get back)\b|\bhas \w+ (?:replied|answered|responded|got back)\b"),
    ("summarize_thread", r"\bsummar(?:ize|ise|y)\b|\bsum up\b|\brecap\b|\btl;?dr\b|\bgist\b|\bkey points\b|\bshort version\b"),
    ("meeting_brief", r"\bbrief\b|\bprep(?:are)?\b|\bbackground for\b|\bneed to know for\b|\bmeeting (?:with \w+ )?about\b|\bnext meeting about\b|\btell me about my\b"),
    ("free_time", r"\bfree\b|\bavailable\b|\bopen slots?\b|\bgap in\b|\bnot busy\b|\bfit an?\b|\bfind (?:me )?an? (?:hour|slot|free)\b|\bfree slot\b"),
    ("next_meeting", r"\bnext (?:meeting|call|thing|one)\b|\bwhat'?s next\b|\bcoming up next\b|\bnext on my\b|\bwhen do i (?:next )?(?:meet|see)\b"),
    ("agenda", r"\bmeetings?\b|\bcalendar\b|\bagenda\b|\bschedule\b|\bwhat'?s on\b|\bwhat is on\b|\bwhat'?s happening\b|\bmy day look\b|\bhow does \w+ look\b|\bwhat have i got\b|\bwhat do i have\b|\bbusy\b|\bcoming up\b|\bdo i have anything\b|\bmy day\b|\bon my plate\b"),
    ("mail_about_topic", r"^(?:search|find|look (?:for|up))\b|\b(?:e?mails?|messages?|anything|anyone|thread)\b.*\b(?:about|regarding|mentioning|on)\b"),
    ("urgent_mail", r"\burgent\b|\bimportant\b|\bpriorit|\battention\b|\bcritical\b|\blook at first\b|\bdeal with now\b|\bwhat matters\b|\bwhat'?s hot\b"),
    ("mail_from_person", r"\bfrom (?!the |my |last |past |this )[a-z]|\bwhat \w+ sent\b|\bwhat did \w+ send\b|\bhas \w+ (?:emailed|written|sent)\b|\bwhat has \w+ sent\b|\b\w+'s e?mails\b|\bmails? by\b|\bbeen sending\b|\bdid \w+ write\b"),
    ("new_mail_since", r"\bnew\b|\bsince\b|\bcame in\b|\barrived\b|\b(?:last|past) (?:\w+ )?(?:hours?|minutes?)\b|\bunread\b|\bwhat did i get\b|\bwho (?:e-?mailed|wrote to|messaged) me\b"),
]  # fmt: skip

NAME = r"(?P<name>[a-z][a-z'-]+)"
NAME2 = r"(?P<name>[a-z][a-z'-]+(?: [a-z][a-z'-]+)?)"
PERSONS = {
    "mail_from_person": (
        rf"\bfrom {NAME2}", rf"\bwhat did {NAME} send\b", rf"\bhas {NAME} (?:emailed|written|sent)\b",
        rf"\bwhat has {NAME} sent\b", rf"\bwhat {NAME} sent\b", rf"\b{NAME}'s e?mails\b", rf"\bmails? by {NAME}\b",
        rf"\bwhat'?s {NAME} been sending\b", rf"\bdid {NAME} write\b",
    ),
    "mail_about_topic": (rf"\bfrom {NAME2}",),
    "next_meeting": (rf"\bwith {NAME}", rf"\b(?:meet|see) {NAME}"),
    "meeting_brief": (rf"\bwith {NAME}",),
    "summarize_thread": (rf"\b(?:with|from) {NAME}",),
    "waiting_on_me": (rf"\bis {NAME} waiting\b",),
    "i_am_waiting_on": (
        rf"\bwaiting on {NAME}", rf"\bhas {NAME} (?:replied|answered|responded|got back)\b", rf"\bdid {NAME} (?:answer|reply|respond|get back)\b",
    ),
    "draft_reply": (
        rf"\b(?:reply|respond|response|answer|write back|write) to {NAME}", rf"^tell {NAME}",
        rf"^let {NAME} know\b", rf"^email {NAME} back\b", rf"^send {NAME} an? (?:reply|response)\b",
    ),
}  # fmt: skip
NAME_STOPWORDS = frozenset(
    "me my the a an this that it them him her you us everyone all anything anyone someone i since about "
    "today tomorrow yesterday tonight this last past next lately recently and or saying say to for on in "
    "at with that's thanks no yes ok know back first second third one ones mail email emails message "
    "messages thread boss people card cards item number".split()
    + list(WEEKDAYS)
    + list(MONTHS)
)
TOPICS = {
    "mail_about_topic": (
        r"\b(?:about|regarding|mentioning|on) (?P<topic>.+?)(?: from \w+)?$",
        r"^(?:search|find|look (?:for|up))(?: for)? (?P<topic>.+)$",
    ),
    "summarize_thread": (
        r"\b(?:about|on|regarding) (?P<topic>.+)$",
        r"^.*\b(?:the|of) (?P<topic>[\w' ]+?) (?:thread|e?mails?|discussion|messages?|conversation)\b",
    ),
    "meeting_brief": (r"\b(?:for|on) (?:the )?(?!my\b|me\b)(?P<topic>[\w ]+?)(?: meeting)?$",),
    "cancel_reminder": (
        r"\breminder (?:about|to|for) (?P<topic>.+)$", r"\breminding me (?:about|to) (?P<topic>.+)$",
        r"\bthe (?P<topic>\w+) reminder\b",
    ),
}  # fmt: skip
TOPIC_NOISE = frozenset(
    "the a an my mail mails email emails messages message thread meeting latest last first second third this that all".split()
)
ORD = "(?P<ord>first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th)"
ITEMS = {
    # a card's number as the page shows it (the Now list), whatever the chat listed last
    "card": (r"\bcard #?(?P<n>\d{1,3})\b", rf"\bthe {ORD} card\b"),
    "number": (
        r"#\s?(?P<n>\d{1,3})\b", r"\b(?:number|item|card|email|mail|message|reminder) #?(?P<n>\d{1,3})\b",
        r"^\w+ (?P<n>\d{1,2})\b(?! ?(?:am|pm|:))", r"^(?P<n>\d{1,2}) (?:is|was|isn'?t|done)\b",
        r"\babout #?(?P<n>\d{1,2})$",
    ),
    "ordinal": (rf"\bthe {ORD}\b",),
    "last": (r"\bthe last (?:one|card|item|mail|email|message)\b",),
    "all": (r"\b(?:all|everything)\b",),
    "possessive": (r"\b(?!(?:what|that|it|let|here|there|who|how)'s)(?P<name>[a-z]+?)'s (?:last |latest )?(?:e?mail|message)",),
    "next": (r"\bmy next meeting\b",),
    "named": (r"\bthe (?!(?:first|second|third|fourth|fifth|sixth|last|next|other|same|new|old|right|wrong|urgent|latest|only|this|that)\b)(?P<name>[a-z][a-z'-]+) (?:one|card)\b",),
    "id": (r"^(?:go ahead and |yes,? )?(?:approve|reject|decline)(?: action)? (?P<id>(?=[a-z0-9_-]*\d)[a-z0-9_-]{4,64})\b",),
}  # fmt: skip
ITEM_PRONOUNS = {
    "correct_item": r"\b(?:this|it|that)\b|\bthis sender\b",
    "snooze_item": r"\b(?:this|it|that)\b",
    "mark_read_item": r"\b(?:this|it|that)\b",
    "mark_done_item": r"\b(?:this|it|that'?s)\b",
    "summarize_thread": r"\bsummari[sz]e (?:this|it|that)\b",
    "draft_reply": r"\b(?:to|answer) (?:this|it|that)\b",
    "remind_me": r"\babout (?:this|it|that)\b",
    "cancel_reminder": r"\b(?:this|that) reminder\b",
    "approve": r"\bapprove (?:this|it|that)\b",
    "reject": r"\b(?:reject|decline) (?:this|it|that)\b|^don'?t send\b",
}
MESSAGE = compile_all(
    (
        r"^(?:can you |could you |please )*(?:remind me|set a reminder|reminder:?|ping me|don'?t let me forget)\b(?: for)?",
        r"^(?:to|about|that|:)\s+",
        r"\b(?:to|about)$",
        r"^(?:card |number |item |#)?\s?\d{1,3}$",  # "remind me about 1 tomorrow": a card, no text
    )
)
BODY = compile_all(
    (
        r"(?i)\b(?:saying|say|that|with)\s+[\"']?(?P<body>.+?)[\"']?$",
        r"(?i):\s*(?P<body>.+)$",
        r"(?i)^tell \w+\s+(?P<body>.+)$",
        r"(?i)^let \w+ know (?:that )?(?P<body>.+)$",
    )
)
TYPOS = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "wat": "what", "wht": "what",
    "wht's": "what's", "whn": "when", "fre": "free", "nxt": "next", "mrk": "mark", "sen": "send",
    "pls": "please", "plz": "please", "wk": "week", "drft": "draft", "whats": "what's", "whos": "who's",
    "summarise": "summarise", "cancl": "cancel", "folowups": "followups", "thx": "thanks",
}  # fmt: skip
VOCABULARY = frozenset(
    "tomorrow yesterday today tonight calendar meeting meetings remind reminder reminders snooze draft "
    "cancel summarize search followups waiting urgent schedule agenda digest reply respond mark done "
    "archive pending approve reject morning afternoon evening minutes hours available important "
    "messages emails priorities attention replied replies answer unanswered remember reminded approval".split()
    + [w for w in WEEKDAYS if len(w) > 4]
    + [m for m in MONTHS if len(m) > 4]
)
QUESTIONS = {
    "remind_when": "When should I remind you? (for example: tomorrow at 9, in 2 hours, on Friday)",
    "remind_day": "Which day should I remind you?",
    "remind_what": "What should I remind you of?",
    "which_person": "Which {name} do you mean: {choices}?",
    "which_item": "Which one do you mean? Say its number, for example: the first one.",
    "which_action": "Which action do you mean? {choices}",
    "reply_what": "What should the reply say?",
    "reply_whom": "Who should the reply go to?",
}
HELP_LINES = {
    "agenda_day": "**what's on tomorrow?** — meetings on a day (or **this week**, **next week**)",
    "next_meeting": "**my next meeting**",
    "free_time": "**when am I free tomorrow afternoon?**",
    "meeting_brief": "**brief me on my next meeting**",
    "urgent_mail": "**what is urgent?**",
    "new_mail_since": "**what's new since yesterday?**",
    "mail_from_person": "**what did Priya send me?**",
    "mail_about_topic": "**find mail about** *topic*",
    "summarize_thread": "**summarize the thread about** *topic*",
    "waiting_on_me": "**who is waiting on me?**",
    "i_am_waiting_on": "**follow-ups** — who has not answered you",
    "remind_me": "**remind me to** *something* **at 3pm tomorrow** / **in 2 hours**",
    "list_reminders": "**my reminders**, **cancel reminder 2**",
    "snooze_item": "**snooze card 3**, **snooze the first one until tomorrow**, **mark it read**, **card 2 done** (a card's number as Now shows it)",
    "correct_item": "**2 is important**, **mark it not important**, **never from this sender** — teaches the Now list",
    "digest_now": "**send the digest now**, **send my digest at 8am**",
    "draft_reply": "**tell Tom I'll send it tonight** — a reply draft that waits for your approval",
    "pending": "**pending**, **approve** *id*, **reject** *id*",
    "profile_show": "**profile**, **my name is** *name*, **add vip** *address*, **remember that** *fact*",
}

ENGLISH = Language(
    code="en",
    typos=TYPOS,
    vocabulary=VOCABULARY,
    weekdays=WEEKDAYS,
    months=MONTHS,
    numbers=NUMBERS,
    ordinals=ORDINALS,
    units=UNITS,
    part_hours={"morning": "09:00", "afternoon": "14:00", "evening": "18:00"},
    part_windows={"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 22)},
    agenda_windows={"morning": (0, 12), "afternoon": (12, 18), "evening": (17, 24)},
    date_patterns={kind: compile_all(patterns) for kind, patterns in DATE_PATTERNS.items()},
    polite=re.compile(r"^(?:(?:please|pls|can you|could you|would you|hey pepper|pepper|ok|okay),?\s+)+"),
    intents=tuple((name, re.compile(pattern)) for name, pattern in INTENTS),
    persons={intent: compile_all(patterns) for intent, patterns in PERSONS.items()},
    name_stopwords=NAME_STOPWORDS,
    topics={intent: compile_all(patterns) for intent, patterns in TOPICS.items()},
    topic_noise=TOPIC_NOISE,
    items={kind: compile_all(patterns) for kind, patterns in ITEMS.items()},
    item_pronouns={intent: re.compile(pattern) for intent, pattern in ITEM_PRONOUNS.items()},
    message=MESSAGE,
    body=BODY,
    questions=QUESTIONS,
    help_lines=HELP_LINES,
    help_intro="I did not understand that. Without a language model I can do these:",
    corrections={
        "never": re.compile(r"\bnever\b|\bmute\b"),
        "not_important": re.compile(r"\bnot\b|\bunimportant\b|n'?t important\b"),
    },
    extra={
        "greeting": "Hello! Ask me what is urgent, what's on tomorrow, or to remind you of something; say help for more.",
        "thanks": "You're welcome.",
    },
)

"""Triage features for the ranker: what a mail asks of the user and what it is, read from the mail.

Each module is one family of features the ranker combines: `deadlines` (a cue and a date in a
plausible range) and `content` (a naive Bayes spam/bulk model over words and headers, seeded from
public mail and adapted to the user: from their Junk folder, `content_book`, and their corrections,
`lessons`); `ranker` and `ranker_book` combine them per user; `now` is the attention budget they fill.
"""

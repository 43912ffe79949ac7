"""Triage features for the ranker: what a mail asks of the user, read from the mail itself.

Each module is one family of features the ranker combines: `deadlines` (a cue and a date in a
plausible range), and others beside it.
"""

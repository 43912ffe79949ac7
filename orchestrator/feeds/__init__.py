"""Sense: feeds that follow the context store's event log and turn raw mail and calendar items into
signals (`signals.*`): triage, meeting prep, follow-ups and reminders."""

"""The triage evaluation behind `bench/triage_eval.py`: the public corpus and its splits (`corpus`),
triage of one message and the figures over many (`mail_eval`), and the labelled deadline phrases
(`phrases`)."""

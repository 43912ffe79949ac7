"""Fuzzing every server tool with hostile arguments over real stdio and HTTP (issue 13)."""

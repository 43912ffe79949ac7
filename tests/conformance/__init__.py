"""Conformance checks run against every Pepper server: the official MCP suite and the Inspector CLI."""

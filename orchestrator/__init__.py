"""Pepper's orchestrator: the Sense-Think-Act loop that drives the MCP servers (feeds, scheduler, workers)."""

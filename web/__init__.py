"""Pepper's web UI: a static page (`web/static/`) and the small Starlette app that serves it and its
JSON and server-sent-events API at `/pepper/` on the orchestrator's port (5050 by default)."""

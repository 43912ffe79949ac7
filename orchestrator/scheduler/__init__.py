"""Think: the scheduler that turns events into steps of the assistant.

Events (user messages, signals, reminders, tool results) wait in a priority queue; each step takes a
batch, adds it to the history, asks the model what to do, and hands tool calls to an engine that runs
them in the background, so a slow tool never blocks the conversation: its result comes back later as an
event. This package imports neither `openai` nor `mcp`; models and tools reach it through protocols.
"""

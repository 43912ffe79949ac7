"""The conversation benchmark's parts: the labelled phrasing corpus, the readers measured on it
(today's rules-mode chat, and the conversation engine) and the scoring (`bench/conversation.py`)."""

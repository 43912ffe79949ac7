"""The deciders behind the scheduler: `LLMBrain` over a chat model, and `RulesBrain`, which needs none."""

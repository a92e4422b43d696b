"""Chat over the workspace: conversations, their history, intent routing, prompts, answers."""

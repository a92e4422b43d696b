"""Chat over the workspace: conversations, their history, intent routing, prompts, answers;
and the explain / fix / improve tasks on code."""

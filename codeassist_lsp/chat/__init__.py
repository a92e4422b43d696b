"""Conversations with the model: chat, and the explain / fix / improve tasks on code."""

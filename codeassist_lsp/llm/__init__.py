"""The model engine: one small Backend protocol, several backends, a model manager."""

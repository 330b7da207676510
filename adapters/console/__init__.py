"""The terminal: the embedded default, needing no account anywhere."""

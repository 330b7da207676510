"""The platform-neutral bot: flows, the conversation engine, and what answers become.

Nothing here imports a platform SDK or an adapter (checked by import-linter).
"""

"""Adapters: one folder per platform, each turning platform events into `bot.messages.Incoming`
and rendering `bot.messages.Outgoing` in the platform's format."""

"""Slack: reflections in Slack through slack-bolt (HTTP at /slack/events, or Socket Mode)."""

from adapters.slack.app import SlackAdapter

__all__ = ["SlackAdapter"]

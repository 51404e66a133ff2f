"""Telegram Bot API channel for agent-framework-hosting."""

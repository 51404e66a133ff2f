"""`TelegramChannel`'s constructor: the alpha's parameters kept, and settings refused early."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from agent_framework_hosting_telegram import TelegramChannel
from telegram_harness import TOKEN

KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
REQUIRED = inspect.Parameter.empty

# The 1.0.0a260625 alpha's parameters, in order, with their defaults.
ALPHA_PARAMETERS: list[tuple[str, Any]] = [
    ("bot_token", REQUIRED),
    ("path", "/telegram/webhook"),
    ("commands", ()),
    ("register_native_commands", True),
    ("run_hook", None),
    ("response_hook", None),
    ("api_base", "https://api.telegram.org"),
    ("webhook_url", None),
    ("secret_token", None),
    ("delete_webhook_on_shutdown", False),
    ("parse_mode", None),
    ("send_typing_action", True),
    ("transport", "auto"),
    ("polling_timeout", 30),
    ("stream", True),
    ("stream_update_hook", None),
    ("stream_edit_min_interval", 0.4),
]


def test_the_constructor_keeps_the_alpha_parameters_and_adds_only_after_them() -> None:
    parameters = list(inspect.signature(TelegramChannel).parameters.values())
    alpha = parameters[: len(ALPHA_PARAMETERS)]
    assert [(p.name, p.default) for p in alpha] == ALPHA_PARAMETERS
    assert [type(p.default) for p in alpha] == [type(d) for _, d in ALPHA_PARAMETERS]
    assert all(p.kind is KEYWORD_ONLY for p in parameters)
    # Parameters added since are optional, so an alpha app's call still works unchanged.
    added = parameters[len(ALPHA_PARAMETERS) :]
    assert "max_concurrent_updates" in [p.name for p in added]
    assert all(p.default is not REQUIRED for p in added)


@pytest.mark.parametrize(
    "options",
    [
        {"transport": "webhook", "secret_token": ""},
        {"transport": "auto", "secret_token": "", "webhook_url": "https://bot.example/hook"},
        {"transport": "webhook", "secret_token": "", "webhook_url": "https://bot.example/hook"},
    ],
)
def test_an_empty_webhook_secret_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="secret_token must not be empty"):
        TelegramChannel(bot_token=TOKEN, **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bot_token": "no-colon"}, "bot_token must be a Telegram bot token"),
        ({"bot_token": ""}, "bot_token must be a Telegram bot token"),
        ({"transport": "webhook"}, "A webhook needs secret_token"),
        ({"parse_mode": "markdown"}, "parse_mode must be None, 'MarkdownV2'"),
        ({"transport": "carrier-pigeon"}, "transport must be"),
        ({"group_sessions": "per_moon"}, "group_sessions must be"),
        ({"max_concurrent_updates": 0}, "max_concurrent_updates must be at least 1"),
        ({"max_reply_messages": 0}, "max_reply_messages must be at least 1"),
        ({"max_file_bytes": 0}, "max_file_bytes must be at least 1"),
        ({"allowed_user_ids": "42"}, "allowed_user_ids must be a collection of integer"),
    ],
)
def test_invalid_settings_are_refused_naming_the_fix(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"bot_token": TOKEN, **options}
    with pytest.raises(ValueError, match=message):
        TelegramChannel(**arguments)


def test_a_polling_channel_ignores_an_empty_secret_it_does_not_use() -> None:
    channel = TelegramChannel(bot_token=TOKEN, secret_token="")
    assert channel.transport == "polling"

"""`TelegramChannel`: a Telegram bot over the host, by webhook or long polling."""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from agent_framework_hosting import (
    ChannelCommand,
    ChannelContext,
    ChannelContribution,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
    WireError,
    decode_json,
    read_body,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._access import Allowlist, checked_ids
from ._api import BotApi, TelegramApiError
from ._dispatch import SeenUpdates, UpdateDispatcher
from ._handler import HandlerSettings, UpdateHandler, telegram_isolation_key
from ._parse import UpdateError, parse_update
from ._polling import Poller
from ._text import ParseMode

__all__ = ["TelegramChannel", "telegram_isolation_key"]

logger = logging.getLogger("agent_framework.hosting.telegram")

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_UPDATE_BYTES = 1024 * 1024
"""The largest webhook body read; Telegram's updates are far smaller."""
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_PARSE_MODES: dict[str, ParseMode] = {
    "MarkdownV2": "MarkdownV2",
    "Markdown": "MarkdownV2",
    "HTML": "HTML",
}


class TelegramChannel:
    """Serves the target as a Telegram bot.

    Each private chat is its own conversation (``telegram:<chat_id>``). In groups, each
    member has their own conversation by default (``telegram:<chat_id>:<user_id>``);
    ``group_sessions="per_chat"`` shares one per group. The host's commands (``/new``,
    ``/reset``, and the ones passed here) are bot commands, plus ``/start``.

    Delivery: with ``transport="webhook"`` the Bot API posts updates to ``path``, and
    each must carry ``secret_token`` in the ``X-Telegram-Bot-Api-Secret-Token`` header
    (``401`` otherwise) and fit in ``MAX_UPDATE_BYTES`` (``413``); with ``"polling"`` the
    channel runs a ``getUpdates`` loop for the host's lifetime. ``"auto"`` picks webhook
    when ``webhook_url`` or ``secret_token`` is given, else polling. Either way, an update
    whose fields do not have the Bot API's types is refused before anything uses it.

    Args:
        bot_token: The bot's token from @BotFather. It is never logged, and never shown
            to the agent: received files are downloaded and passed as data.
        path: Where the webhook route is mounted.
        commands: Extra commands, offered to every channel of the host.
        register_native_commands: Publish the commands with ``setMyCommands`` at startup.
        run_hook: Invoked by the host before each run; may rewrite the request.
        response_hook: Invoked by the host on each final result (redaction).
        api_base: The Bot API server (a local Bot API server, or a fake in tests).
        webhook_url: When set, ``setWebhook`` is called with it at startup.
        secret_token: The webhook secret; generated when ``webhook_url`` is set without one.
            An empty one is refused. Several processes serving one bot must share one.
        delete_webhook_on_shutdown: Call ``deleteWebhook`` when the host stops.
        parse_mode: ``None`` sends plain text; ``"MarkdownV2"`` (or ``"Markdown"``) and
            ``"HTML"`` render the agent's Markdown, escaped for that mode, and fall back to
            plain text if Telegram rejects a message.
        send_typing_action: Show "typing…" while the agent works.
        transport: ``"auto"``, ``"polling"`` or ``"webhook"``.
        polling_timeout: Seconds one ``getUpdates`` call waits for updates.
        stream: Stream replies into one message, edited as the agent writes.
        stream_update_hook: Invoked by the host on each streamed update.
        stream_edit_min_interval: Seconds between two edits of a streamed message.
        group_sessions: ``"per_user"`` or ``"per_chat"`` conversations in groups.
        max_file_bytes: The largest received file (photo, document, voice, audio, video)
            downloaded for the agent; the sender of a larger one is told so.
        apology: What the user reads when the agent fails (the cause is only logged).
        shutdown_timeout: Seconds the host's shutdown waits for replies in progress.
        max_concurrent_updates: The most updates held at once (being answered, or waiting
            behind an earlier message of their chat). When that many are held, polling
            fetches no more and the webhook answers ``503`` so that Telegram delivers the
            update again later.
        max_reply_messages: The most messages one reply is sent as; a longer reply is
            sent as its first message and then in full as a text file.
        allowed_user_ids: When set (or ``allowed_chat_ids`` is), only messages from these
            users, or in the allowed chats, are answered.
        allowed_chat_ids: Chats (private chats or groups) whose messages are answered.
        not_allowed_reply: What a chat whose messages are not answered is told, at most
            once an hour.

    """

    name = "telegram"

    def __init__(
        self,
        *,
        bot_token: str,
        path: str = "/telegram/webhook",
        commands: Sequence[ChannelCommand] = (),
        register_native_commands: bool = True,
        run_hook: ChannelRunHook | None = None,
        response_hook: ChannelResponseHook | None = None,
        api_base: str = "https://api.telegram.org",
        webhook_url: str | None = None,
        secret_token: str | None = None,
        delete_webhook_on_shutdown: bool = False,
        parse_mode: str | None = None,
        send_typing_action: bool = True,
        transport: Literal["auto", "polling", "webhook"] = "auto",
        polling_timeout: int = 30,
        stream: bool = True,
        stream_update_hook: ChannelStreamUpdateHook | None = None,
        stream_edit_min_interval: float = 0.4,
        group_sessions: Literal["per_user", "per_chat"] = "per_user",
        max_file_bytes: int = 20 * 1024 * 1024,
        apology: str = "Sorry, something went wrong. Please try again.",
        shutdown_timeout: float = 10.0,
        max_concurrent_updates: int = 64,
        max_reply_messages: int = 5,
        allowed_user_ids: Collection[int] | None = None,
        allowed_chat_ids: Collection[int] | None = None,
        not_allowed_reply: str = "Sorry, this bot is private.",
    ) -> None:
        if not bot_token or ":" not in bot_token:
            raise ValueError("bot_token must be a Telegram bot token ('<bot id>:<secret>')")
        if parse_mode is not None and parse_mode not in _PARSE_MODES:
            raise ValueError(
                f"parse_mode must be None, 'MarkdownV2', 'Markdown' or 'HTML', got {parse_mode!r}"
            )
        if transport not in ("auto", "polling", "webhook"):
            raise ValueError(f"transport must be 'auto', 'polling' or 'webhook', got {transport!r}")
        if group_sessions not in ("per_user", "per_chat"):
            raise ValueError(
                f"group_sessions must be 'per_user' or 'per_chat', got {group_sessions!r}"
            )
        for option, value in (
            ("max_concurrent_updates", max_concurrent_updates),
            ("max_reply_messages", max_reply_messages),
            ("max_file_bytes", max_file_bytes),
        ):
            if value < 1:
                raise ValueError(f"{option} must be at least 1, got {value!r}")
        self._allowed_user_ids = checked_ids(allowed_user_ids, "allowed_user_ids")
        self._allowed_chat_ids = checked_ids(allowed_chat_ids, "allowed_chat_ids")
        if transport == "auto":
            transport = "webhook" if webhook_url or secret_token else "polling"
        if transport == "webhook" and secret_token == "":
            raise ValueError(
                "secret_token must not be empty: an empty secret lets anyone post updates to "
                "the webhook. Pass a secret (1-256 characters: A-Z, a-z, 0-9, _ and -), or "
                "secret_token=None with webhook_url to have one generated"
            )
        if transport == "webhook" and secret_token is None:
            if webhook_url is None:
                raise ValueError(
                    "A webhook needs secret_token (the value Telegram sends in the "
                    "X-Telegram-Bot-Api-Secret-Token header), or webhook_url so that one "
                    "can be generated and registered"
                )
            secret_token = secrets.token_urlsafe(32)
        self.path = path
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self.transport: Literal["polling", "webhook"] = transport
        self.stream = stream
        """Whether replies stream into a live message; read at each update."""
        self._token = bot_token
        self._commands = tuple(commands)
        self._api_base = api_base
        self._delivery = _Delivery(
            transport=transport,
            secret_token=secret_token,
            webhook_url=webhook_url,
            delete_webhook_on_shutdown=delete_webhook_on_shutdown,
            polling_timeout=polling_timeout,
            register_native_commands=register_native_commands,
        )
        self._shutdown_timeout = shutdown_timeout
        self._max_concurrent_updates = max_concurrent_updates
        self._settings = HandlerSettings(
            bot_id=bot_token.split(":", 1)[0],
            parse_mode=_PARSE_MODES[parse_mode] if parse_mode is not None else None,
            send_typing_action=send_typing_action,
            stream_edit_min_interval=stream_edit_min_interval,
            group_sessions=group_sessions,
            max_file_bytes=max_file_bytes,
            max_reply_messages=max_reply_messages,
            apology=apology,
            not_allowed_reply=not_allowed_reply,
        )
        self._dispatcher: UpdateDispatcher | None = None
        """The dispatcher of the host that contributed the channel last, for `pending_updates`."""

    @property
    def pending_updates(self) -> int:
        """Updates received and not yet fully answered."""
        return self._dispatcher.pending if self._dispatcher is not None else 0

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The webhook route (webhook transport), the commands and the bot's lifecycle."""
        api = BotApi(self._token, api_base=self._api_base)
        handler = UpdateHandler(
            self._settings,
            context,
            api,
            Allowlist(self._allowed_user_ids, self._allowed_chat_ids),
            channel_name=self.name,
            streaming=lambda: self.stream,
        )
        dispatcher = self._dispatcher = UpdateDispatcher(
            handler.handle,
            SeenUpdates(context.state_store, self._settings.bot_id),
            capacity=self._max_concurrent_updates,
            shutdown_timeout=self._shutdown_timeout,
        )
        bot = _Bot(self._delivery, context, api, handler, dispatcher, self._settings.bot_id)
        return ChannelContribution(
            routes=bot.routes(),
            commands=self._commands,
            on_startup=[bot.start],
            on_shutdown=[bot.stop],
        )


@dataclass(frozen=True, slots=True)
class _Delivery:
    """How updates arrive and how the bot presents itself, as a host's bot needs it."""

    transport: Literal["polling", "webhook"]
    secret_token: str | None
    webhook_url: str | None
    delete_webhook_on_shutdown: bool
    polling_timeout: int
    register_native_commands: bool


class _Bot:
    """One host's bot: its webhook route, and its startup and shutdown."""

    def __init__(
        self,
        delivery: _Delivery,
        context: ChannelContext,
        api: BotApi,
        handler: UpdateHandler,
        dispatcher: UpdateDispatcher,
        bot_id: str,
    ) -> None:
        self._delivery = delivery
        self._context = context
        self._api = api
        self._handler = handler
        self._dispatcher = dispatcher
        self._poller = (
            Poller(
                api,
                dispatcher,
                timeout=delivery.polling_timeout,
                store=context.state_store,
                bot_id=bot_id,
            )
            if delivery.transport == "polling"
            else None
        )

    def routes(self) -> list[Route]:
        """The webhook route, for the webhook transport."""
        if self._delivery.transport != "webhook":
            return []
        return [Route("/", self.receive_webhook, methods=["POST"])]

    async def receive_webhook(self, request: Request) -> Response:
        """``POST {path}``: check the secret, read the update within its limits, accept it."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self._delivery.secret_token or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _bot_api_error(401, "Unauthorized")
        try:
            body = decode_json(await read_body(request, MAX_UPDATE_BYTES))
        except WireError as error:
            return _bot_api_error(error.status, error.message)
        try:
            update = parse_update(body)
        except UpdateError as error:
            return _bot_api_error(400, f"Not a Telegram update: {error}")
        if self._dispatcher.accept(update) == "full":
            # Telegram delivers an update again when the webhook does not answer 2xx.
            return _bot_api_error(503, "Too many updates in progress", headers={"Retry-After": "1"})
        return JSONResponse({"ok": True})

    async def start(self) -> None:
        """Learn the bot's name, publish the commands, and register the webhook or poll."""
        delivery = self._delivery
        me: object = await self._api.call("getMe")
        username: object = (
            cast("dict[str, Any]", me).get("username") if isinstance(me, dict) else None
        )
        self._handler.username = username if isinstance(username, str) else ""
        if delivery.register_native_commands:
            await self._api.call(
                "setMyCommands", {"commands": _bot_commands(self._context.commands)}
            )
        if delivery.transport == "webhook" and delivery.webhook_url is not None:
            await self._api.call(
                "setWebhook",
                {
                    "url": delivery.webhook_url,
                    "secret_token": delivery.secret_token,
                    "allowed_updates": ["message"],
                },
            )
        if self._poller is not None:
            # getUpdates is refused while a webhook is set.
            await self._api.call("deleteWebhook", {"drop_pending_updates": False})
            self._poller.start()

    async def stop(self) -> None:
        """Stop polling, let replies in progress finish, and close the client."""
        try:
            if self._poller is not None:
                await self._poller.stop()
            await self._dispatcher.drain()
            if self._delivery.transport == "webhook" and self._delivery.delete_webhook_on_shutdown:
                with contextlib.suppress(TelegramApiError):
                    await self._api.call("deleteWebhook", retry=False)
        finally:
            await self._api.aclose()


def _bot_api_error(
    status: int, description: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An error in the Bot API's own shape, which is what Telegram reads from a webhook."""
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description},
        status_code=status,
        headers=headers,
    )


def _bot_commands(commands: Sequence[ChannelCommand]) -> list[dict[str, str]]:
    """``setMyCommands`` entries: ``/start`` and every command with a name Telegram accepts."""
    entries = [{"command": "start", "description": "Start talking to the bot"}]
    for command in commands:
        if command.name == "start":
            entries[0]["description"] = command.description[:256]
        elif _COMMAND_NAME.match(command.name):
            entries.append({"command": command.name, "description": command.description[:256]})
        else:
            logger.warning(
                "Command %r is not a valid Telegram command name; not registered", command.name
            )
    return entries

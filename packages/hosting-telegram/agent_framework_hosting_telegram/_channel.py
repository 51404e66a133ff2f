"""`TelegramChannel`: a Telegram bot over the host, by webhook or long polling."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any, Literal, cast

from agent_framework_hosting import (
    ChannelCommand,
    ChannelContext,
    ChannelContribution,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._api import BotApi, TelegramApiError
from ._dispatch import SeenUpdates, UpdateDispatcher
from ._handler import HandlerSettings, UpdateHandler, as_mapping, telegram_isolation_key
from ._text import ParseMode

__all__ = ["TelegramChannel", "telegram_isolation_key"]

logger = logging.getLogger("agent_framework.hosting.telegram")

SECRET_HEADER = "x-telegram-bot-api-secret-token"
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
    each must carry ``secret_token`` in the ``X-Telegram-Bot-Api-Secret-Token`` header;
    with ``"polling"`` the channel runs a ``getUpdates`` loop for the host's lifetime.
    ``"auto"`` picks webhook when ``webhook_url`` or ``secret_token`` is given, else
    polling.

    Args:
        bot_token: The bot's token from @BotFather. It is never logged, and never shown
            to the agent: received photos are downloaded and passed as data.
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
        max_image_bytes: Larger received images are not downloaded.
        apology: What the user reads when the agent fails (the cause is only logged).
        shutdown_timeout: Seconds the host's shutdown waits for replies in progress.
        max_concurrent_updates: The most updates held at once (being answered, or waiting
            behind an earlier message of their chat). When that many are held, polling
            fetches no more and the webhook answers ``503`` so that Telegram delivers the
            update again later.

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
        max_image_bytes: int = 10 * 1024 * 1024,
        apology: str = "Sorry, something went wrong. Please try again.",
        shutdown_timeout: float = 10.0,
        max_concurrent_updates: int = 64,
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
        if max_concurrent_updates < 1:
            raise ValueError(
                f"max_concurrent_updates must be at least 1, got {max_concurrent_updates!r}"
            )
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
        self._register_native_commands = register_native_commands
        self._api_base = api_base
        self._webhook_url = webhook_url
        self._secret_token = secret_token
        self._delete_webhook_on_shutdown = delete_webhook_on_shutdown
        self._polling_timeout = polling_timeout
        self._shutdown_timeout = shutdown_timeout
        self._max_concurrent_updates = max_concurrent_updates
        self._settings = HandlerSettings(
            bot_id=bot_token.split(":", 1)[0],
            parse_mode=_PARSE_MODES[parse_mode] if parse_mode is not None else None,
            send_typing_action=send_typing_action,
            stream_edit_min_interval=stream_edit_min_interval,
            group_sessions=group_sessions,
            max_image_bytes=max_image_bytes,
            apology=apology,
        )
        self._dispatcher: UpdateDispatcher | None = None
        self._poller: asyncio.Task[None] | None = None

    @property
    def pending_updates(self) -> int:
        """Updates received and not yet fully answered."""
        return self._dispatcher.pending if self._dispatcher is not None else 0

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The webhook route (webhook transport), the commands and the bot's lifecycle."""
        api = BotApi(self._token, api_base=self._api_base)
        handler = UpdateHandler(
            self._settings, context, api, channel_name=self.name, streaming=lambda: self.stream
        )
        dispatcher = self._dispatcher = UpdateDispatcher(
            handler.handle,
            SeenUpdates(context.state_store, self._settings.bot_id),
            capacity=self._max_concurrent_updates,
            shutdown_timeout=self._shutdown_timeout,
        )

        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "")
            expected = self._secret_token or ""
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"ok": False, "description": "Forbidden"}, status_code=403)
            try:
                update: object = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                return JSONResponse({"ok": False, "description": "Invalid JSON"}, status_code=400)
            if not isinstance(update, dict) or not isinstance(
                cast("dict[str, Any]", update).get("update_id"), int
            ):
                return JSONResponse(
                    {"ok": False, "description": "Not a Telegram update"}, status_code=400
                )
            if dispatcher.accept(cast("dict[str, Any]", update)) == "full":
                # Telegram delivers an update again when the webhook does not answer 2xx.
                return JSONResponse(
                    {"ok": False, "description": "Too many updates in progress"},
                    status_code=503,
                    headers={"Retry-After": "1"},
                )
            return JSONResponse({"ok": True})

        async def startup() -> None:
            me = await api.call("getMe")
            handler.username = str(as_mapping(me).get("username") or "")
            if self._register_native_commands:
                await api.call("setMyCommands", {"commands": _bot_commands(context.commands)})
            if self.transport == "webhook" and self._webhook_url is not None:
                await api.call(
                    "setWebhook",
                    {
                        "url": self._webhook_url,
                        "secret_token": self._secret_token,
                        "allowed_updates": ["message"],
                    },
                )
            if self.transport == "polling":
                # getUpdates is refused while a webhook is set.
                await api.call("deleteWebhook", {"drop_pending_updates": False})
                self._poller = asyncio.create_task(
                    self._poll(api, dispatcher), name="telegram-poll"
                )

        async def shutdown() -> None:
            try:
                if self._poller is not None:
                    self._poller.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._poller
                    self._poller = None
                await dispatcher.drain()
                if self.transport == "webhook" and self._delete_webhook_on_shutdown:
                    with contextlib.suppress(TelegramApiError):
                        await api.call("deleteWebhook", retry=False)
            finally:
                await api.aclose()

        routes = [Route("/", webhook, methods=["POST"])] if self.transport == "webhook" else []
        return ChannelContribution(
            routes=routes,
            commands=self._commands,
            on_startup=[startup],
            on_shutdown=[shutdown],
        )

    async def _poll(self, api: BotApi, dispatcher: UpdateDispatcher) -> None:
        """Long-poll ``getUpdates`` until cancelled; back off on errors.

        Only as many updates are fetched as can be accepted: the rest wait at Telegram,
        unconfirmed, until updates in progress finish.
        """
        offset: int | None = None
        failures = 0
        while True:
            await dispatcher.wait_for_room()
            payload: dict[str, Any] = {
                "timeout": self._polling_timeout,
                "allowed_updates": ["message"],
                "limit": min(100, dispatcher.free),
            }
            if offset is not None:
                payload["offset"] = offset
            try:
                updates = await api.call(
                    "getUpdates", payload, read_timeout=self._polling_timeout + 10, retry=False
                )
            except TelegramApiError as error:
                failures += 1
                wait = error.retry_after or _polling_backoff(failures)
                logger.warning("%s; polling again in %.1fs", error, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            for item in cast("list[object]", updates) if isinstance(updates, list) else []:
                update = as_mapping(item)
                update_id = update.get("update_id")
                if not isinstance(update_id, int):
                    continue
                if dispatcher.accept(update) == "full":
                    break  # not confirmed: the next getUpdates returns it again
                offset = max(offset or 0, update_id + 1)


def _polling_backoff(failures: int) -> float:
    """Seconds before polling again after ``failures`` failures in a row: 0.5, 1, 2, … 30."""
    return min(30.0, 0.5 * 2 ** min(failures - 1, 6))


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

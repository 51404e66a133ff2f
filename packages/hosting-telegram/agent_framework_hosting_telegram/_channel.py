"""`TelegramChannel`: a Telegram bot over the host, by webhook or long polling."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from agent_framework import AgentResponse, Content, Message
from agent_framework_hosting import (
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelContribution,
    ChannelIdentity,
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelSession,
    ChannelStreamUpdateHook,
    HostedRunResult,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._api import BotApi, TelegramApiError
from ._replies import ChatReplier
from ._text import ParseMode

__all__ = ["TelegramChannel", "telegram_isolation_key"]

logger = logging.getLogger("agent_framework.hosting.telegram")

SECRET_HEADER = "x-telegram-bot-api-secret-token"
_SEEN_UPDATES = 1024
"""How many of the latest update ids are remembered to ignore redeliveries."""
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_PARSE_MODES: dict[str, ParseMode] = {
    "MarkdownV2": "MarkdownV2",
    "Markdown": "MarkdownV2",
    "HTML": "HTML",
}


@dataclass(frozen=True, slots=True)
class _Settings:
    """How the channel answers, as the update handler needs it."""

    bot_id: str
    parse_mode: ParseMode | None
    send_typing_action: bool
    stream_edit_min_interval: float
    group_sessions: Literal["per_user", "per_chat"]
    max_image_bytes: int
    apology: str


def telegram_isolation_key(chat_id: int | str) -> str:
    """The isolation key of a Telegram chat: ``"telegram:<chat_id>"``."""
    return f"telegram:{chat_id}"


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
        if transport == "auto":
            transport = "webhook" if webhook_url or secret_token else "polling"
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
        self._settings = _Settings(
            bot_id=bot_token.split(":", 1)[0],
            parse_mode=_PARSE_MODES[parse_mode] if parse_mode is not None else None,
            send_typing_action=send_typing_action,
            stream_edit_min_interval=stream_edit_min_interval,
            group_sessions=group_sessions,
            max_image_bytes=max_image_bytes,
            apology=apology,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None

    @property
    def pending_updates(self) -> int:
        """Updates received and not yet fully answered."""
        return len(self._tasks)

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The webhook route (webhook transport), the commands and the bot's lifecycle."""
        api = BotApi(self._token, api_base=self._api_base)
        handler = _UpdateHandler(self, self._settings, context, api)

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
            self._dispatch(handler, cast("dict[str, Any]", update))
            return JSONResponse({"ok": True})

        async def startup() -> None:
            me = await api.call("getMe")
            handler.username = str(_mapping(me).get("username") or "")
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
                self._poller = asyncio.create_task(self._poll(api, handler), name="telegram-poll")

        async def shutdown() -> None:
            try:
                if self._poller is not None:
                    self._poller.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._poller
                    self._poller = None
                await self._drain()
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

    def _dispatch(self, handler: _UpdateHandler, update: dict[str, Any]) -> None:
        task = asyncio.create_task(
            handler.handle(update), name=f"telegram-update-{update['update_id']}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll(self, api: BotApi, handler: _UpdateHandler) -> None:
        """Long-poll ``getUpdates`` until cancelled; back off on errors."""
        offset: int | None = None
        failures = 0
        while True:
            payload: dict[str, Any] = {
                "timeout": self._polling_timeout,
                "allowed_updates": ["message"],
            }
            if offset is not None:
                payload["offset"] = offset
            try:
                updates = await api.call(
                    "getUpdates", payload, read_timeout=self._polling_timeout + 10, retry=False
                )
            except TelegramApiError as error:
                failures += 1
                wait = error.retry_after or min(30.0, 0.5 * 2 ** min(failures, 6))
                logger.warning("%s; polling again in %.1fs", error, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            for item in cast("list[object]", updates) if isinstance(updates, list) else []:
                update = _mapping(item)
                update_id = update.get("update_id")
                if isinstance(update_id, int):
                    offset = max(offset or 0, update_id + 1)
                    self._dispatch(handler, update)

    async def _drain(self) -> None:
        """Let replies in progress finish (up to ``shutdown_timeout``), then cancel the rest."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=self._shutdown_timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


class _UpdateHandler:
    """Turns one update into a command or an agent run, and answers the chat."""

    def __init__(
        self, channel: TelegramChannel, settings: _Settings, context: ChannelContext, api: BotApi
    ) -> None:
        self._channel = channel
        self._settings = settings
        self._context = context
        self._api = api
        self.username = ""
        """The bot's username (from ``getMe``), to tell ``/cmd@thisbot`` from other bots'."""
        # The latest update ids live in the host's state store, so a redelivered update is
        # ignored across restarts (with state_dir) and by every replica sharing the store.
        self._seen_key = f"telegram:seen-updates:{settings.bot_id}"

    def _first_time(self, update_id: int) -> bool:
        """Record ``update_id``; ``False`` if it was already among the latest ids seen."""
        store = self._context.state_store
        stored: object = store.get(self._seen_key)
        seen = (
            [i for i in cast("list[object]", stored) if isinstance(i, int)]
            if isinstance(stored, list)
            else []
        )
        if update_id in seen:
            return False
        store.set(self._seen_key, [*seen[-(_SEEN_UPDATES - 1) :], update_id])
        return True

    async def handle(self, update: dict[str, Any]) -> None:
        if not self._first_time(update["update_id"]):
            logger.info("Ignoring duplicate Telegram update %s", update["update_id"])
            return
        message: object = update.get("message")
        if not isinstance(message, dict):
            return
        try:
            await self._handle_message(cast("dict[str, Any]", message))
        except TelegramApiError as error:
            logger.error("Telegram update %s could not be answered: %s", update["update_id"], error)
        except Exception:
            logger.exception("Telegram update %s could not be answered", update["update_id"])

    async def _handle_message(self, message: dict[str, Any]) -> None:
        chat = _mapping(message.get("chat"))
        chat_id = chat.get("id")
        if not isinstance(chat_id, int):
            return
        sender = _mapping(message.get("from"))
        is_group = chat.get("type") in ("group", "supergroup")
        settings = self._settings
        replier = ChatReplier(
            self._api,
            chat_id,
            parse_mode=settings.parse_mode,
            reply_to=message.get("message_id") if is_group else None,
            edit_min_interval=settings.stream_edit_min_interval,
        )
        request = ChannelRequest(
            channel=self._channel.name,
            operation="message.create",
            input="",
            session=ChannelSession(isolation_key=self._isolation_key(chat_id, sender, is_group)),
            identity=_identity(sender, chat),
            metadata={"chat_id": chat_id, "message_id": message.get("message_id")},
            stream=self._channel.stream,
        )
        text = message.get("text")
        if isinstance(text, str) and text.startswith("/"):
            await self._run_command(text, request, replier)
            return
        contents = await self._contents(message)
        if not contents:
            await replier.send_text("I can read text and images; please send one of those.")
            return
        request.input = [Message("user", contents)]
        typing = await self._typing(chat_id)
        try:
            response = await self._run(request, replier)
        except Exception:
            logger.exception("The agent failed on a Telegram message in chat %s", chat_id)
            await replier.send_text(settings.apology)
            return
        finally:
            if typing is not None:
                typing.cancel()
        await replier.finish(response)

    def _isolation_key(self, chat_id: int, sender: Mapping[str, Any], is_group: bool) -> str:
        key = telegram_isolation_key(chat_id)
        user_id = sender.get("id")
        per_user = self._settings.group_sessions == "per_user"
        if is_group and per_user and isinstance(user_id, int):
            return f"{key}:{user_id}"
        return key

    async def _run(self, request: ChannelRequest, replier: ChatReplier) -> AgentResponse:
        """Run the target; a streamed run shows its progress in the chat as it goes."""
        if not request.stream:
            return (await self._context.run(request)).result
        async with await self._context.run_stream(request) as stream:
            so_far: list[str] = []
            async for update in stream:
                if update.text:
                    so_far.append(update.text)
                    await replier.show_progress("".join(so_far))
            final: HostedRunResult = await stream.get_final_response()
        return final.result

    async def _run_command(self, text: str, request: ChannelRequest, replier: ChatReplier) -> None:
        word = text.split(maxsplit=1)[0][1:]
        name, _, addressee = word.partition("@")
        if addressee and self.username and addressee.lower() != self.username.lower():
            return  # a command for another bot in the group
        request.operation = "command.invoke"
        request.input = text
        commands = {command.name: command for command in self._context.commands}
        if name == "start" and "start" not in commands:
            await replier.send_text(
                "Hello! Send me a message to start. " + _command_list(commands.values())
            )
            return
        command = commands.get(name.lower())
        if command is None:
            await replier.send_text(f"Unknown command /{name}. " + _command_list(commands.values()))
            return
        await command.handle(ChannelCommandContext(request, replier.send_text, self._context))

    async def _contents(self, message: dict[str, Any]) -> list[Content]:
        """The user's text or caption, and a received image downloaded as data."""
        contents: list[Content] = []
        text = message.get("text") or message.get("caption")
        if isinstance(text, str) and text:
            contents.append(Content.from_text(text))
        image = _image_file(message, self._settings.max_image_bytes)
        if image is not None:
            file_id, media_type = image
            data = await self._download(file_id)
            if data is not None:
                contents.append(Content.from_data(data=data, media_type=media_type))
        return contents

    async def _download(self, file_id: str) -> bytes | None:
        try:
            file = _mapping(await self._api.call("getFile", {"file_id": file_id}))
            path = file.get("file_path")
            if not isinstance(path, str):
                return None
            return await self._api.download(path, max_bytes=self._settings.max_image_bytes)
        except TelegramApiError as error:
            logger.warning("A received image could not be downloaded: %s", error)
            return None

    async def _typing(self, chat_id: int) -> asyncio.Task[None] | None:
        """Show "typing…" now, and keep renewing it until the returned task is cancelled."""
        if not self._settings.send_typing_action:
            return None

        async def show() -> None:
            with contextlib.suppress(TelegramApiError):
                await self._api.call(
                    "sendChatAction", {"chat_id": chat_id, "action": "typing"}, retry=False
                )

        async def keep_typing() -> None:
            # Telegram shows the action for about five seconds.
            while True:
                await asyncio.sleep(4.0)
                await show()

        await show()
        return asyncio.create_task(keep_typing(), name=f"telegram-typing-{chat_id}")


def _mapping(value: object) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _identity(sender: Mapping[str, Any], chat: Mapping[str, Any]) -> ChannelIdentity | None:
    user_id = sender.get("id")
    if not isinstance(user_id, int):
        return None
    attributes = {
        key: sender[key]
        for key in ("username", "first_name", "last_name", "language_code", "is_bot")
        if key in sender
    }
    attributes["chat_id"] = chat.get("id")
    attributes["chat_type"] = chat.get("type")
    return ChannelIdentity(channel="telegram", native_id=str(user_id), attributes=attributes)


def _image_file(message: Mapping[str, Any], max_bytes: int) -> tuple[str, str] | None:
    """The file id and media type of the message's image: the largest photo size that fits."""
    photo: object = message.get("photo")
    if isinstance(photo, list):
        sizes = [
            _mapping(size)
            for size in cast("list[object]", photo)
            if isinstance(_mapping(size).get("file_id"), str)
        ]
        fitting = [size for size in sizes if int(size.get("file_size") or 0) <= max_bytes]
        if fitting:
            best = max(
                fitting, key=lambda size: int(size.get("width") or 0) * int(size.get("height") or 0)
            )
            return str(best["file_id"]), "image/jpeg"
    document = _mapping(message.get("document"))
    media_type = document.get("mime_type")
    if (
        isinstance(media_type, str)
        and media_type.startswith("image/")
        and isinstance(document.get("file_id"), str)
        and int(document.get("file_size") or 0) <= max_bytes
    ):
        return str(document["file_id"]), media_type
    return None


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


def _command_list(commands: Sequence[ChannelCommand] | Any) -> str:
    names = ", ".join(f"/{command.name}" for command in commands)
    return f"Commands: {names}." if names else ""

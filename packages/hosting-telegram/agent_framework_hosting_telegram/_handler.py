"""Answering one update: a command, or an agent run whose reply goes back to the chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from agent_framework import AgentResponse, Content, Message
from agent_framework_hosting import (
    ChannelCommand,
    ChannelCommandContext,
    ChannelContext,
    ChannelIdentity,
    ChannelRequest,
    ChannelSession,
    HostedRunResult,
)

from ._api import BotApi, TelegramApiError
from ._replies import ChatReplier
from ._text import ParseMode

__all__ = ["HandlerSettings", "UpdateHandler", "as_mapping", "telegram_isolation_key"]

logger = logging.getLogger("agent_framework.hosting.telegram")


@dataclass(frozen=True, slots=True)
class HandlerSettings:
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


class UpdateHandler:
    """Turns one update into a command or an agent run, and answers the chat."""

    def __init__(
        self,
        settings: HandlerSettings,
        context: ChannelContext,
        api: BotApi,
        *,
        channel_name: str,
        streaming: Callable[[], bool],
    ) -> None:
        self._channel_name = channel_name
        self._streaming = streaming
        self._settings = settings
        self._context = context
        self._api = api
        self.username = ""
        """The bot's username (from ``getMe``), to tell ``/cmd@thisbot`` from other bots'."""

    async def handle(self, update: dict[str, Any]) -> None:
        """Answer one accepted update; failures are logged, never raised."""
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
        chat = as_mapping(message.get("chat"))
        chat_id = chat.get("id")
        if not isinstance(chat_id, int):
            return
        sender = as_mapping(message.get("from"))
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
            channel=self._channel_name,
            operation="message.create",
            input="",
            session=ChannelSession(isolation_key=self._isolation_key(chat_id, sender, is_group)),
            identity=_identity(sender, chat),
            metadata={"chat_id": chat_id, "message_id": message.get("message_id")},
            stream=self._streaming(),
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
            file = as_mapping(await self._api.call("getFile", {"file_id": file_id}))
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


def as_mapping(value: object) -> dict[str, Any]:
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
            as_mapping(size)
            for size in cast("list[object]", photo)
            if isinstance(as_mapping(size).get("file_id"), str)
        ]
        fitting = [size for size in sizes if int(size.get("file_size") or 0) <= max_bytes]
        if fitting:
            best = max(
                fitting, key=lambda size: int(size.get("width") or 0) * int(size.get("height") or 0)
            )
            return str(best["file_id"]), "image/jpeg"
    document = as_mapping(message.get("document"))
    media_type = document.get("mime_type")
    if (
        isinstance(media_type, str)
        and media_type.startswith("image/")
        and isinstance(document.get("file_id"), str)
        and int(document.get("file_size") or 0) <= max_bytes
    ):
        return str(document["file_id"]), media_type
    return None


def _command_list(commands: Sequence[ChannelCommand] | Any) -> str:
    names = ", ".join(f"/{command.name}" for command in commands)
    return f"Commands: {names}." if names else ""

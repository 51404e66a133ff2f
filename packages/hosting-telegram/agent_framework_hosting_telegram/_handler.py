"""Answering one update: a command, or an agent run whose reply goes back to the chat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

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

from ._access import Allowlist
from ._api import BotApi, TelegramApiError
from ._media import MediaUnavailable, fetch_media
from ._parse import TelegramMessage, TelegramUpdate
from ._replies import ChatReplier
from ._text import ParseMode

__all__ = ["HandlerSettings", "UpdateHandler", "telegram_isolation_key"]

logger = logging.getLogger("agent_framework.hosting.telegram")


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """How the channel answers, as the update handler needs it."""

    bot_id: str
    parse_mode: ParseMode | None
    send_typing_action: bool
    stream_edit_min_interval: float
    group_sessions: Literal["per_user", "per_chat"]
    max_file_bytes: int
    max_reply_messages: int
    apology: str
    not_allowed_reply: str


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
        allowlist: Allowlist,
        *,
        channel_name: str,
        streaming: Callable[[], bool],
    ) -> None:
        self._channel_name = channel_name
        self._streaming = streaming
        self._settings = settings
        self._context = context
        self._api = api
        self._allowlist = allowlist
        self.username = ""
        """The bot's username (from ``getMe``), to tell ``/cmd@thisbot`` from other bots'."""

    async def handle(self, update: TelegramUpdate) -> None:
        """Answer one accepted update; failures are logged, never raised."""
        if update.message is None:
            return
        try:
            await self._handle_message(update.message)
        except TelegramApiError as error:
            logger.error("Telegram update %s could not be answered: %s", update.update_id, error)
        except Exception:
            logger.exception("Telegram update %s could not be answered", update.update_id)

    async def _handle_message(self, message: TelegramMessage) -> None:
        settings = self._settings
        replier = ChatReplier(
            self._api,
            message.chat_id,
            parse_mode=settings.parse_mode,
            reply_to=message.message_id if message.is_group else None,
            edit_min_interval=settings.stream_edit_min_interval,
            max_reply_messages=settings.max_reply_messages,
        )
        if not self._allowlist.allows(message):
            sender = message.sender.id if message.sender is not None else None
            logger.info(
                "Telegram message from user %s in chat %s refused: not on the allowlist",
                sender,
                message.chat_id,
            )
            if self._allowlist.should_refuse(message.chat_id):
                await replier.send_text(settings.not_allowed_reply)
            return
        request = ChannelRequest(
            channel=self._channel_name,
            operation="message.create",
            input="",
            session=ChannelSession(isolation_key=self._isolation_key(message)),
            identity=_identity(message),
            metadata={"chat_id": message.chat_id, "message_id": message.message_id},
            stream=self._streaming(),
        )
        text = message.text
        if text is not None and text.startswith("/") and not message.files:
            await self._run_command(text, request, replier)
            return
        contents: list[Content] = [Content.from_text(text)] if text else []
        if message.files:
            try:
                contents.append(
                    await fetch_media(self._api, message.files, max_bytes=settings.max_file_bytes)
                )
            except MediaUnavailable as unavailable:
                await replier.send_text(unavailable.reply)
                return
        if not contents:
            await replier.send_text(_UNSUPPORTED)
            return
        request.input = [Message("user", contents)]
        typing = await self._typing(message.chat_id)
        try:
            response = await self._run(request, replier)
        except Exception:
            logger.exception("The agent failed on a Telegram message in chat %s", message.chat_id)
            await replier.send_text(settings.apology)
            return
        finally:
            if typing is not None:
                typing.cancel()
                await asyncio.wait([typing])
        await replier.finish(response)

    def _isolation_key(self, message: TelegramMessage) -> str:
        key = telegram_isolation_key(message.chat_id)
        per_user = self._settings.group_sessions == "per_user"
        if message.is_group and per_user and message.sender is not None:
            return f"{key}:{message.sender.id}"
        return key

    async def _run(self, request: ChannelRequest, replier: ChatReplier) -> AgentResponse:
        """Run the target; a streamed run shows its progress in the chat as it goes."""
        if not request.stream:
            return (await self._context.run(request)).result
        async with await self._context.run_stream(request) as stream:
            async for update in stream:
                if update.text:
                    await replier.show_progress(update.text)
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


_UNSUPPORTED = (
    "I can read text, photos, documents, voice and audio messages, and videos; "
    "please send one of those."
)


def _identity(message: TelegramMessage) -> ChannelIdentity | None:
    if message.sender is None:
        return None
    attributes: dict[str, Any] = {
        **message.sender.attributes,
        "chat_id": message.chat_id,
        "chat_type": message.chat_type,
    }
    return ChannelIdentity(
        channel="telegram", native_id=str(message.sender.id), attributes=attributes
    )


def _command_list(commands: Iterable[ChannelCommand]) -> str:
    names = ", ".join(f"/{command.name}" for command in commands)
    return f"Commands: {names}." if names else ""

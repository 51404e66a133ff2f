"""The commands every host offers, whatever its channels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._types import ChannelCommand, ChannelCommandContext

__all__ = ["builtin_commands"]


def builtin_commands(
    reset_session: Callable[[str], Awaitable[None]],
) -> tuple[ChannelCommand, ...]:
    """``new`` and ``reset``: both start a fresh session for the caller's key."""

    async def start_fresh(ctx: ChannelCommandContext) -> None:
        key = ctx.request.isolation_key
        if key is None:
            await ctx.reply("There is no conversation to reset here.")
            return
        await reset_session(key)
        await ctx.reply("Started a new conversation.")

    return (
        ChannelCommand("new", "Start a new conversation", start_fresh),
        ChannelCommand("reset", "Forget this conversation and start over", start_fresh),
    )

"""The hooks a channel declares, calling hooks that may be sync or async, a run's stream hook."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from agent_framework import AgentResponseUpdate

from ._types import (
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamRun,
    ChannelStreamRunHook,
    ChannelStreamUpdateHook,
)

__all__ = ["HOOK_NAMES", "NOT_GIVEN", "ChannelHooks", "StreamHook", "call_hook", "declared_hooks"]

HOOK_NAMES = ("run_hook", "response_hook", "stream_update_hook")
"""The hooks a channel declares, as attributes of these names; the host calls no others."""


@dataclass(frozen=True, slots=True)
class ChannelHooks:
    """The hooks the host calls around a channel's runs."""

    run_hook: ChannelRunHook | None = None
    response_hook: ChannelResponseHook | None = None
    stream_update_hook: ChannelStreamUpdateHook | None = None

    def overridden(self, **given: Any) -> ChannelHooks:
        """These hooks with those passed for one run instead (an unset one keeps its own)."""
        passed = {name: hook for name, hook in given.items() if hook is not NOT_GIVEN}
        return replace(self, **_checked("the run", passed)) if passed else self


class _NotGiven:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN: Any = _NotGiven()
"""A hook argument left out, where ``None`` passed explicitly means "no hook"."""


def declared_hooks(channel: object) -> ChannelHooks:
    """The hooks ``channel`` declares: its attributes named as in :data:`HOOK_NAMES`.

    Raises:
        ValueError: The channel has another public attribute named like a hook
            (``respone_hook``, ``stream_hook``): the host would never call it.
        TypeError: A hook is neither ``None`` nor callable (nor, for the stream-update
            hook, a :class:`ChannelStreamRunHook`).

    """
    owner = f"channel {getattr(channel, 'name', type(channel).__name__)!r}"
    unknown = sorted(
        name
        for name in dir(channel)
        if not name.startswith("_")
        and (name.endswith("_hook") or name.endswith("_hooks"))
        and name not in HOOK_NAMES
    )
    if unknown:
        raise ValueError(
            f"The {owner} has {', '.join(map(repr, unknown))}, which the host never calls: "
            f"a channel's hooks are {', '.join(HOOK_NAMES)}."
        )
    return ChannelHooks(
        **_checked(owner, {name: getattr(channel, name, None) for name in HOOK_NAMES})
    )


def _checked(owner: str, hooks: dict[str, Any]) -> dict[str, Any]:
    for name, hook in hooks.items():
        if name not in HOOK_NAMES:  # pragma: no cover - keyword arguments are named
            raise ValueError(f"{name!r} is not a hook; hooks are {', '.join(HOOK_NAMES)}.")
        if hook is None or callable(hook):
            continue
        if name == "stream_update_hook" and isinstance(hook, ChannelStreamRunHook):
            continue
        raise TypeError(f"{name} of {owner} must be callable or None, got {type(hook).__name__}")
    return hooks


async def call_hook(hook: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``hook`` and await its result when it returns an awaitable."""
    result = hook(*args, **kwargs)
    if inspect.isawaitable(result):
        return await cast("Any", result)
    return result


class StreamHook:
    """A streamed run's stream-update hook, whichever kind the channel was given.

    A plain hook is called per update; a :class:`ChannelStreamRunHook` is opened for the
    run, and its run also gets the end of the updates.
    """

    __slots__ = ("_hook", "_run")

    def __init__(self, hook: ChannelStreamUpdateHook | None, request: ChannelRequest) -> None:
        self._hook = hook
        self._run: ChannelStreamRun | None = (
            hook.open_run(request) if isinstance(hook, ChannelStreamRunHook) else None
        )

    async def update(self, update: AgentResponseUpdate) -> Sequence[AgentResponseUpdate]:
        """What to send for ``update``."""
        if self._run is not None:
            return cast("Sequence[AgentResponseUpdate]", await call_hook(self._run.update, update))
        if self._hook is None:
            return (update,)
        shown = await call_hook(self._hook, update)
        return () if shown is None else (shown,)

    async def end(self) -> Sequence[AgentResponseUpdate]:
        """What to send once the run's updates have ended."""
        if self._run is None:
            return ()
        return cast("Sequence[AgentResponseUpdate]", await call_hook(self._run.end))

"""Response ids: the channel's own, or those an app's factory makes."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Callable
from typing import TypeAlias, cast

__all__ = ["ResponseIdFactory", "ResponseIdMaker", "response_id_maker"]

ResponseIdFactory: TypeAlias = Callable[[], str] | Callable[[str | None], str]
"""Makes the id of a new response: called with no argument, or with the request's
``previous_response_id`` (``None`` when it has none)."""

ResponseIdMaker: TypeAlias = Callable[[str | None], str]
"""A factory of either shape, called with the request's ``previous_response_id``."""


def response_id_maker(factory: ResponseIdFactory | None) -> ResponseIdMaker:
    """``factory`` as one callable taking the ``previous_response_id``.

    Its signature is read once, here: a factory that can take one positional argument
    gets the ``previous_response_id``; one that takes none is called without it. Without a
    factory ids are ``resp_<48 hex>``.

    Raises:
        TypeError: ``factory`` is not callable, or can be called neither with no
            argument nor with one positional argument.

    """
    if factory is None:
        return _default_id
    if not callable(factory):
        raise TypeError(
            f"response_id_factory must be callable, not {type(factory).__name__}: "
            "pass factory() -> str or factory(previous_response_id) -> str"
        )
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        signature = None
    if signature is not None and _binds(signature, None):
        return cast("ResponseIdMaker", factory)
    if signature is not None and _binds(signature):
        no_argument = cast("Callable[[], str]", factory)
        return lambda previous_response_id: no_argument()
    raise TypeError(
        f"response_id_factory {factory!r} must take no argument or one positional "
        "argument (the previous_response_id): factory() -> str or "
        "factory(previous_response_id) -> str"
    )


def _default_id(previous_response_id: str | None) -> str:
    return f"resp_{secrets.token_hex(24)}"


def _binds(signature: inspect.Signature, *arguments: object) -> bool:
    try:
        signature.bind(*arguments)
    except TypeError:
        return False
    return True

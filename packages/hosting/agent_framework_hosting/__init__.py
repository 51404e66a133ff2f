"""Serve Microsoft Agent Framework agents and workflows through many channels at once."""

import logging
from typing import TYPE_CHECKING, Any

from ._api_keys import ApiKeyAuthenticator, hash_api_key
from ._auth import (
    AuthenticationFailed,
    Authenticator,
    CallableAuthenticator,
    Caller,
    PermissionDenied,
    Principal,
    bearer_token,
    partition_key,
    require_scopes,
)
from ._channel import Channel
from ._context import ISOLATION_KEYS_ATTRIBUTE, ChannelContext, HostedRunStream
from ._errors import HostError, HostErrorCode, HostErrorRenderer, host_error_response
from ._framework import content_name, data_content
from ._hooks import ChannelHooks
from ._host import AgentFrameworkHost
from ._isolation import (
    ISOLATION_HEADER_CHAT,
    ISOLATION_HEADER_USER,
    IsolationKeys,
    get_current_isolation_keys,
    reset_current_isolation_keys,
    set_current_isolation_keys,
)
from ._keepalive import SSE_KEEPALIVE, with_keepalive
from ._limits import RunAdmission, RunLimits, TooManyRuns, released_after
from ._log_bounds import BoundedLogWriter, LogBound
from ._paths import HostStatePaths
from ._redaction import StreamRedaction, StreamRedactor
from ._runs import BackgroundRuns, RunLog, RunLogWriter
from ._sessions import ConversationBusy
from ._state import (
    DiskStateStore,
    Lease,
    LeaseLost,
    MemoryStateStore,
    StateStore,
    StateUnavailable,
    Versioned,
    update_state,
)
from ._types import (
    ChannelCommand,
    ChannelCommandContext,
    ChannelContribution,
    ChannelIdentity,
    ChannelRequest,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelSession,
    ChannelStreamRun,
    ChannelStreamRunHook,
    ChannelStreamUpdateHook,
    HostedRunResult,
    SessionMode,
)
from ._version import __version__
from ._wire import (
    DEFAULT_MAX_DEPTH,
    WireError,
    check_json_content_type,
    decode_json,
    encode_json,
    json_response,
    read_body,
)
from ._workflow_requests import RESPONSE_SCHEMA_PROPERTY, WorkflowInputError
from ._workflow_updates import WorkflowTurnResponse

if TYPE_CHECKING:
    from ._jwt import JWTAuthenticator

logger = logging.getLogger("agent_framework.hosting")
"""The core's logger; each channel package logs under ``agent_framework.hosting.<channel>``."""

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "ISOLATION_HEADER_CHAT",
    "ISOLATION_HEADER_USER",
    "ISOLATION_KEYS_ATTRIBUTE",
    "RESPONSE_SCHEMA_PROPERTY",
    "SSE_KEEPALIVE",
    "AgentFrameworkHost",
    "ApiKeyAuthenticator",
    "AuthenticationFailed",
    "Authenticator",
    "BackgroundRuns",
    "BoundedLogWriter",
    "CallableAuthenticator",
    "Caller",
    "Channel",
    "ChannelCommand",
    "ChannelCommandContext",
    "ChannelContext",
    "ChannelContribution",
    "ChannelHooks",
    "ChannelIdentity",
    "ChannelRequest",
    "ChannelResponseHook",
    "ChannelRunHook",
    "ChannelSession",
    "ChannelStreamRun",
    "ChannelStreamRunHook",
    "ChannelStreamUpdateHook",
    "ConversationBusy",
    "DiskStateStore",
    "HostError",
    "HostErrorCode",
    "HostErrorRenderer",
    "HostStatePaths",
    "HostedRunResult",
    "HostedRunStream",
    "IsolationKeys",
    "JWTAuthenticator",
    "Lease",
    "LeaseLost",
    "LogBound",
    "MemoryStateStore",
    "PermissionDenied",
    "Principal",
    "RunAdmission",
    "RunLimits",
    "RunLog",
    "RunLogWriter",
    "SessionMode",
    "StateStore",
    "StateUnavailable",
    "StreamRedaction",
    "StreamRedactor",
    "TooManyRuns",
    "Versioned",
    "WireError",
    "WorkflowInputError",
    "WorkflowTurnResponse",
    "__version__",
    "bearer_token",
    "check_json_content_type",
    "content_name",
    "data_content",
    "decode_json",
    "encode_json",
    "get_current_isolation_keys",
    "hash_api_key",
    "host_error_response",
    "json_response",
    "logger",
    "partition_key",
    "read_body",
    "released_after",
    "require_scopes",
    "reset_current_isolation_keys",
    "set_current_isolation_keys",
    "update_state",
    "with_keepalive",
]


def __getattr__(name: str) -> Any:
    # The JWT authenticator needs the jwt extra: imported only when asked for.
    if name == "JWTAuthenticator":
        from ._jwt import JWTAuthenticator

        return JWTAuthenticator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

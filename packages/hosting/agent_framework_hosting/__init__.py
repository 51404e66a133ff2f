"""Serve Microsoft Agent Framework agents and workflows through many channels at once."""

from ._auth import (
    AuthenticationFailed,
    Authenticator,
    PermissionDenied,
    Principal,
    partition_key,
)
from ._channel import Channel
from ._context import ISOLATION_KEYS_ATTRIBUTE, ChannelContext, HostedRunStream
from ._errors import HostError, HostErrorCode, HostErrorRenderer, host_error_response
from ._framework import data_content
from ._host import AgentFrameworkHost
from ._isolation import (
    ISOLATION_HEADER_CHAT,
    ISOLATION_HEADER_USER,
    IsolationKeys,
    get_current_isolation_keys,
    reset_current_isolation_keys,
    set_current_isolation_keys,
)
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

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "ISOLATION_HEADER_CHAT",
    "ISOLATION_HEADER_USER",
    "ISOLATION_KEYS_ATTRIBUTE",
    "RESPONSE_SCHEMA_PROPERTY",
    "AgentFrameworkHost",
    "AuthenticationFailed",
    "Authenticator",
    "BackgroundRuns",
    "Channel",
    "ChannelCommand",
    "ChannelCommandContext",
    "ChannelContext",
    "ChannelContribution",
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
    "Lease",
    "LeaseLost",
    "MemoryStateStore",
    "PermissionDenied",
    "Principal",
    "RunLog",
    "RunLogWriter",
    "SessionMode",
    "StateStore",
    "StateUnavailable",
    "StreamRedaction",
    "StreamRedactor",
    "Versioned",
    "WireError",
    "WorkflowInputError",
    "check_json_content_type",
    "data_content",
    "decode_json",
    "encode_json",
    "get_current_isolation_keys",
    "host_error_response",
    "json_response",
    "partition_key",
    "read_body",
    "reset_current_isolation_keys",
    "set_current_isolation_keys",
    "update_state",
]

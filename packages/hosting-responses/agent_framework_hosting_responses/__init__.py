"""The OpenAI Responses API as a channel of `agent-framework-hosting`."""

from ._channel import ResponsesChannel
from ._conversations import responses_isolation_key
from ._errors import ResponsesError
from ._input_items import messages_from_responses_input
from ._parse import ResponsesRequest, parse_responses_identity, parse_responses_request

__all__ = [
    "ResponsesChannel",
    "ResponsesError",
    "ResponsesRequest",
    "messages_from_responses_input",
    "parse_responses_identity",
    "parse_responses_request",
    "responses_isolation_key",
]

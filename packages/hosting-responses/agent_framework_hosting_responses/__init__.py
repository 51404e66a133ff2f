"""The OpenAI Responses API as a channel of `agent-framework-hosting`."""

from ._channel import ResponsesChannel
from ._conversations import responses_isolation_key
from ._errors import ResponsesError
from ._helpers import parse_responses_identity, parse_responses_request, previous_response_key
from ._input_items import messages_from_responses_input
from ._response_ids import ResponseIdFactory

__all__ = [
    "ResponseIdFactory",
    "ResponsesChannel",
    "ResponsesError",
    "messages_from_responses_input",
    "parse_responses_identity",
    "parse_responses_request",
    "previous_response_key",
    "responses_isolation_key",
]

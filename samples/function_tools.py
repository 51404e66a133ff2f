"""Run a tool on the caller's side of the quickstart host, with the openai SDK.

The request declares a function tool the agent does not have. When the agent calls it, the
response completes with a ``function_call`` item; this script runs the function itself and
answers with a ``function_call_output`` item and ``previous_response_id``, and the agent
finishes its answer. The offline agent calls a tool its message names, with the whole
message as the argument; a real model (OPENAI_API_KEY set for the quickstart) picks the city.

    uv run samples/quickstart.py
    uv run samples/function_tools.py      # in another terminal
"""

from __future__ import annotations

import json
import os

from openai import OpenAI
from openai.types.responses import FunctionToolParam, ResponseFunctionToolCall, ResponseInputParam

WEATHER: FunctionToolParam = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def get_weather(city: str) -> str:
    """The caller's own function: the server never sees its code, only its result."""
    return f"Sunny in {city}"


FUNCTIONS = {"get_weather": get_weather}


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    client = OpenAI(base_url=f"http://127.0.0.1:{port}", api_key="unused", max_retries=0)

    response = client.responses.create(
        model="agent", input="What is the weather in Paris? Use get_weather.", tools=[WEATHER]
    )
    # Each function_call is the agent waiting for us: answer them all, then it goes on.
    while calls := [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]:
        answers: ResponseInputParam = []
        for call in calls:
            arguments = json.loads(call.arguments)
            print(f"[call] {call.name}({arguments}) as {call.call_id}")
            answers.append(
                {
                    "type": "function_call_output",
                    "call_id": call.call_id,
                    "output": FUNCTIONS[call.name](**arguments),
                }
            )
        # Tools are declared per request: send them again in case the agent calls once more.
        response = client.responses.create(
            model="agent", input=answers, previous_response_id=response.id, tools=[WEATHER]
        )
    print(f"[{response.status}] {response.output_text}")


if __name__ == "__main__":
    main()

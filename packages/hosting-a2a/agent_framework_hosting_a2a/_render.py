"""The agent's output → A2A: artifacts, streamed text as appended chunks, requests as parts.

A run's text is one artifact (``<task>-<run>-text``), streamed as artifact updates: the
first chunk creates it, each next one is appended (``append``), and the last one says so
(``lastChunk``) — one chunk is held back so that the last is known. When the final
result (after the response hook) differs from what was streamed, a last update
replaces the artifact with it, so the task always ends with the hooked result. Files and
images the agent produced become file parts (``raw`` bytes or a ``url``) of an artifact
each, structured output a data part.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from a2a.types.a2a_pb2 import (
    Artifact,
    Part,
    Role,
    StreamResponse,
    TaskArtifactUpdateEvent,
)
from a2a.types.a2a_pb2 import Message as A2AMessage
from agent_framework import AgentResponse, AgentResponseUpdate, Content
from google.protobuf.json_format import ParseDict
from google.protobuf.struct_pb2 import Value

from ._tasks import PendingRequest

__all__ = [
    "ArtifactStream",
    "agent_message",
    "data_part",
    "pending_requests",
    "result_artifacts",
]

logger = logging.getLogger("agent_framework.hosting.a2a")


def data_part(value: Any) -> Part:
    """A data part holding ``value`` (JSON values)."""
    return Part(data=ParseDict(value, Value()))


def agent_message(
    task_id: str, context_id: str, message_id: str, parts: Sequence[Part]
) -> A2AMessage:
    """A message from the agent in a task (a status message)."""
    return A2AMessage(
        message_id=message_id,
        role=Role.ROLE_AGENT,
        task_id=task_id,
        context_id=context_id,
        parts=list(parts),
    )


def pending_requests(response: AgentResponse) -> list[PendingRequest]:
    """The workflow requests a result leaves open: its calls that have no result."""
    contents = [content for message in response.messages for content in message.contents]
    answered = {c.call_id for c in contents if c.type == "function_result"}
    pending: list[PendingRequest] = []
    for content in contents:
        if content.type != "function_call" or content.call_id in answered:
            continue
        try:
            data = content.parse_arguments()
        except (ValueError, TypeError):
            data = content.arguments
        pending.append(PendingRequest(str(content.call_id), str(content.name), data))
    return pending


def result_artifacts(
    response: AgentResponse, *, task_id: str, run: int, text: bool = True
) -> list[Artifact]:
    """The artifacts of a final result: its text (when ``text``), files, structured output."""
    artifacts: list[Artifact] = []
    if text and response.text:
        artifacts.append(_text_artifact(task_id, run, response.text))
    files = [
        part
        for message in response.messages
        for content in message.contents
        if (part := _file_part(content)) is not None
    ]
    for index, part in enumerate(files):
        artifacts.append(
            Artifact(artifact_id=f"{task_id}-{run}-file-{index}", name="file", parts=[part])
        )
    structured = _structured(response)
    if structured is not None:
        artifacts.append(
            Artifact(artifact_id=f"{task_id}-{run}-data", name="data", parts=[structured])
        )
    return artifacts


def is_text_chunk(event: StreamResponse) -> bool:
    """Whether ``event`` is a chunk of streamed text (one that a log past its cap merges)."""
    if not event.HasField("artifact_update"):
        return False
    parts = event.artifact_update.artifact.parts
    return len(parts) == 1 and parts[0].HasField("text")


def merged_chunks(held: StreamResponse, chunk: StreamResponse) -> StreamResponse | None:
    """``held`` and then ``chunk`` (appended to it) as one chunk, if they merge.

    ``None`` when ``chunk`` starts anew (another artifact, a replacement) or ``held``
    was a last chunk.
    """
    first, then = held.artifact_update, chunk.artifact_update
    if (
        not then.append
        or first.last_chunk
        or then.artifact.artifact_id != first.artifact.artifact_id
    ):
        return None
    merged = StreamResponse()
    merged.CopyFrom(held)
    merged.artifact_update.artifact.parts[0].text += then.artifact.parts[0].text
    merged.artifact_update.last_chunk = then.last_chunk
    return merged


@dataclasses.dataclass
class ArtifactStream:
    """Turns a run's streamed updates into artifact updates of its text artifact."""

    task_id: str
    context_id: str
    run: int
    _held: str | None = None
    _sent: list[str] = dataclasses.field(default_factory=list[str])

    @property
    def artifact_id(self) -> str:
        """The id of the run's text artifact."""
        return f"{self.task_id}-{self.run}-text"

    def update(self, update: AgentResponseUpdate) -> list[StreamResponse]:
        """The events for one update: the chunk held back before it, if any."""
        text = update.text
        if not text:
            return []
        events = [] if self._held is None else [self._chunk(self._held, last=False)]
        self._held = text
        return events

    def finish(self, response: AgentResponse) -> list[StreamResponse]:
        """The closing events: the held chunk marked last, or the final text replacing it all."""
        final = response.text
        streamed = "".join(self._sent) + (self._held or "")
        events: list[StreamResponse] = []
        if final == streamed:
            if self._held is not None:
                events.append(self._chunk(self._held, last=True))
        else:
            if self._held is not None:
                events.append(self._chunk(self._held, last=False))
            if final or self._sent:
                self._sent = []
                events.append(self._chunk(final, last=True, replace=True))
        self._held = None
        for artifact in result_artifacts(response, task_id=self.task_id, run=self.run, text=False):
            events.append(self._event(artifact, append=False, last=True))
        return events

    def _chunk(self, text: str, *, last: bool, replace: bool = False) -> StreamResponse:
        append = bool(self._sent) and not replace
        self._sent.append(text)
        artifact = Artifact(artifact_id=self.artifact_id, name="response", parts=[Part(text=text)])
        return self._event(artifact, append=append, last=last)

    def _event(self, artifact: Artifact, *, append: bool, last: bool) -> StreamResponse:
        return StreamResponse(
            artifact_update=TaskArtifactUpdateEvent(
                task_id=self.task_id,
                context_id=self.context_id,
                artifact=artifact,
                append=append,
                last_chunk=last,
            )
        )


def _text_artifact(task_id: str, run: int, text: str) -> Artifact:
    return Artifact(artifact_id=f"{task_id}-{run}-text", name="response", parts=[Part(text=text)])


def _file_part(content: Content) -> Part | None:
    media_type = content.media_type or "application/octet-stream"
    uri = content.uri or ""
    if content.type == "data" and uri.startswith("data:"):
        try:
            raw = base64.b64decode(uri.partition(",")[2], validate=True)
        except (binascii.Error, ValueError):
            return None
        return Part(raw=raw, media_type=media_type, filename=_name(content))
    if content.type == "uri" and uri:
        return Part(url=uri, media_type=media_type, filename=_name(content))
    return None


def _name(content: Content) -> str:
    name = getattr(content, "name", None) or (content.additional_properties or {}).get("name")
    return name if isinstance(name, str) else ""


def _structured(response: AgentResponse) -> Part | None:
    try:
        value = response.value
    except (ValueError, TypeError):
        return None
    if value is None:
        return None
    model_dump = getattr(value, "model_dump", None)
    jsonable = model_dump(mode="json") if callable(model_dump) else value
    try:
        return data_part(jsonable)
    except (TypeError, ValueError):
        logger.warning("Structured output of type %s is not JSON", type(value).__name__)
        return None

"""`A2AChannel`: the target as an A2A server, over JSON-RPC and HTTP+JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from a2a.types.a2a_pb2 import AgentProvider, AgentSkill, SecurityScheme
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from agent_framework_hosting import (
    Authenticator,
    ChannelContext,
    ChannelContribution,
    ChannelResponseHook,
    ChannelRunHook,
    ChannelStreamUpdateHook,
)
from starlette.routing import Route

from ._access import Access
from ._card import CardEndpoint, CardSettings
from ._errors import host_error
from ._jsonrpc import JsonRpcEndpoint
from ._push import PushConfigs, PushDelivery
from ._rest import RestEndpoints
from ._service import A2AService
from ._task_runs import TaskRuns
from ._tasks import HostTaskStore

__all__ = ["A2AChannel"]


class A2AChannel:
    """Serves the target as an A2A agent: its card, its tasks, both HTTP transports.

    ``POST {path}`` takes JSON-RPC calls; the HTTP+JSON resources live under ``{path}``
    (``/message:send``, ``/tasks/{id}``, …); the card is at ``card_path`` (the spec's
    well-known path at the host's root) and at ``{path}/.well-known/agent-card.json``.
    Every message starts or continues a task that runs as a host turn and outlives
    its request; tasks and push configs live in the host's state store.

    Args:
        path: Where the channel is mounted.
        name: The channel's name; two A2A channels on one host need different names,
            paths and card paths.
        card_path: The absolute path of the public card; ``None`` serves it only under
            ``path``.
        agent_name: The card's name (default: the target's).
        description: The card's description (default: the target's, or a sentence).
        version: The card's version of the agent.
        skills: The card's skills (default: one per function tool of an agent, else one
            for the target).
        provider: The organization behind the agent, for the card.
        documentation_url: Where the agent is documented, for the card.
        security_schemes: The card's security schemes (default: the one of the
            authenticator's challenge, e.g. ``bearer``).
        public_url: The channel's URL as clients reach it (default: from each request).
        auth: Proves callers of this channel (default: the host's ``auth``); the
            public card needs none, everything else does when either is set.
        run_hook: Invoked by the host before each run; may rewrite the request.
        response_hook: Invoked by the host on each final result (redaction).
        stream_update_hook: Invoked by the host on each streamed update.
        max_body_bytes: Larger request bodies are refused (``413``).
        keepalive_seconds: A silent stream gets an SSE comment after this long.
        task_lease_seconds: With a state store other processes share, how long a
            task's process may go silent before its run counts as interrupted.
        task_ttl_seconds: How long a task is kept after its last change (``None``:
            as long as the state store keeps it).
        max_log_events: Events a run's log holds before its text chunks are merged
            into one per artifact part (a long run's log stays bounded; a client that
            resubscribes still gets every character, in fewer chunks).
        push_allow_private_targets: Deliver push notifications to loopback and private
            addresses too; by default only public addresses are called.
        push_attempts: Tries per push notification.
        push_backoff_seconds: Wait before the first retry of a push notification;
            doubled for each next one.
        push_timeout_seconds: How long one push delivery may take.

    Raises:
        TypeError: A hook is neither callable nor a stream run hook.
        ValueError: A limit or duration is not positive.

    """

    name = "a2a"
    """The default name; ``name=`` gives an instance another."""

    def __init__(
        self,
        *,
        path: str = "/a2a",
        name: str = "a2a",
        card_path: str | None = AGENT_CARD_WELL_KNOWN_PATH,
        agent_name: str | None = None,
        description: str | None = None,
        version: str = "1.0.0",
        skills: Sequence[AgentSkill] | None = None,
        provider: AgentProvider | None = None,
        documentation_url: str | None = None,
        security_schemes: Mapping[str, SecurityScheme] | None = None,
        public_url: str | None = None,
        auth: Authenticator | None = None,
        run_hook: ChannelRunHook | None = None,
        response_hook: ChannelResponseHook | None = None,
        stream_update_hook: ChannelStreamUpdateHook | None = None,
        max_body_bytes: int = 8 * 1024 * 1024,
        keepalive_seconds: float = 15.0,
        task_lease_seconds: float = 15.0,
        task_ttl_seconds: float | None = None,
        max_log_events: int = 4096,
        push_allow_private_targets: bool = False,
        push_attempts: int = 5,
        push_backoff_seconds: float = 1.0,
        push_timeout_seconds: float = 10.0,
    ) -> None:
        for hook_name, hook in (
            ("run_hook", run_hook),
            ("response_hook", response_hook),
            ("stream_update_hook", stream_update_hook),
        ):
            if hook is not None and not callable(hook) and not hasattr(hook, "open_run"):
                raise TypeError(f"{hook_name} must be callable, got {type(hook).__name__}")
        positive = {
            "max_body_bytes": max_body_bytes,
            "keepalive_seconds": keepalive_seconds,
            "task_lease_seconds": task_lease_seconds,
            "max_log_events": max_log_events,
            "push_attempts": push_attempts,
            "push_timeout_seconds": push_timeout_seconds,
        }
        for setting, value in positive.items():
            if value <= 0:
                raise ValueError(f"{setting} must be positive, got {value}")
        if push_backoff_seconds < 0:
            raise ValueError("push_backoff_seconds must not be negative")
        if task_ttl_seconds is not None and task_ttl_seconds <= 0:
            raise ValueError("task_ttl_seconds must be positive or None")
        self.path = path
        self.name = name
        self.card_path = card_path
        self.public_url = public_url
        self.auth = auth
        self.run_hook = run_hook
        self.response_hook = response_hook
        self.stream_update_hook = stream_update_hook
        self.card = CardSettings(
            name=agent_name,
            description=description,
            version=version,
            skills=skills,
            provider=provider,
            documentation_url=documentation_url,
            security_schemes=security_schemes,
        )
        self.max_body_bytes = max_body_bytes
        self.keepalive_seconds = keepalive_seconds
        self.task_lease_seconds = task_lease_seconds
        self.task_ttl_seconds = task_ttl_seconds
        self.max_log_events = max_log_events
        self.push_allow_private_targets = push_allow_private_targets
        self.push_attempts = push_attempts
        self.push_backoff_seconds = push_backoff_seconds
        self.push_timeout_seconds = push_timeout_seconds

    def contribute(self, context: ChannelContext) -> ChannelContribution:
        """The channel's routes on one host, with the task store and runs they share."""
        tasks = HostTaskStore(context.state_store, ttl=self.task_ttl_seconds)
        configs = PushConfigs(context.state_store)
        push = PushDelivery(
            configs,
            allow_private_targets=self.push_allow_private_targets,
            attempts=self.push_attempts,
            backoff_seconds=self.push_backoff_seconds,
            timeout_seconds=self.push_timeout_seconds,
        )
        runs = TaskRuns(
            context,
            tasks,
            push,
            lease_seconds=self.task_lease_seconds,
            max_log_events=self.max_log_events,
        )
        access = Access(context, self.auth)
        card = CardEndpoint(
            self.card, context, access.authenticator, path=self.path, public_url=self.public_url
        )
        service = A2AService(
            context,
            self.name,
            tasks,
            runs,
            configs,
            push,
            extended_card=card.extended if access.authenticator is not None else None,
            keepalive_seconds=self.keepalive_seconds,
        )
        jsonrpc = JsonRpcEndpoint(service, access, max_body_bytes=self.max_body_bytes)
        rest = RestEndpoints(service, access, max_body_bytes=self.max_body_bytes)
        routes = [
            Route("/", jsonrpc.handle, methods=["POST"]),
            Route(AGENT_CARD_WELL_KNOWN_PATH, card.public, methods=["GET"]),
            *rest.routes(),
        ]
        mounts = (
            {self.card_path: [Route("/", card.public, methods=["GET"])]} if self.card_path else {}
        )
        return ChannelContribution(
            routes=routes, mounts=mounts, on_shutdown=[runs.aclose], error_response=host_error
        )

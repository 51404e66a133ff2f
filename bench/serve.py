"""Serve one benchmark app under Hypercorn: ``python bench/serve.py host|floor FD [DELAY]``.

``host-redis`` is the host with its state in Redis (``REDIS_URL``, ``REDIS_PREFIX``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from hypercorn.asyncio import serve
from hypercorn.config import Config

sys.path.insert(0, str(Path(__file__).parent))

from apps import floor_app, host_app


def main() -> None:
    kind, fd = sys.argv[1], int(sys.argv[2])  # a listening socket the caller bound
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    max_live = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
    if kind == "host-redis":
        from agent_framework_hosting_redis import RedisStateStore

        store = RedisStateStore.from_url(os.environ["REDIS_URL"], prefix=os.environ["REDIS_PREFIX"])
        app = host_app(delay, max_live, store)
    else:
        app = (host_app if kind == "host" else floor_app)(delay, max_live)
    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    config.backlog = 2048
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

"""A Redis for the tests, and a key prefix of each test's own."""

from __future__ import annotations

import secrets

import pytest
from agent_framework_hosting_redis.testing import redis_url_for_tests


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; the test skips (fails under ``CI=true``) without one."""
    return redis_url_for_tests()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"afh-test-{secrets.token_hex(6)}:"

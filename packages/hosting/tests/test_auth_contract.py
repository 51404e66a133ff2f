import itertools

import pytest
from agent_framework_hosting import IsolationKeys, Principal, partition_key

VALUES = [None, "a", "b", "a:b", "b:c", "a/b", "@a", "a|b", "%3A", ":", "/", "|", "@"]


def test_no_two_distinct_callers_share_a_partition_key() -> None:
    seen: dict[str | None, tuple[object, ...]] = {}
    principals = [None, *(Principal(s) for s in ("a", "a/b", "@a", "a|b")), Principal("b", "a")]
    for principal, user, chat in itertools.product(principals, VALUES, VALUES):
        keys = IsolationKeys(user_key=user, chat_key=chat)
        identity = (principal, keys.user_key or None, keys.chat_key or None)
        key = partition_key(principal, keys)
        if key is None:
            assert principal is None
            assert keys.is_empty
            continue
        assert seen.setdefault(key, identity) == identity, key


def test_a_principal_partition_names_its_tenant() -> None:
    assert Principal("alice").partition == "alice"
    assert Principal("alice", tenant="acme").partition == "acme/alice"
    assert Principal("a/b").partition != Principal("b", tenant="a").partition


def test_an_anonymous_caller_without_isolation_keys_has_no_partition() -> None:
    assert partition_key(None, IsolationKeys()) is None


def test_a_principal_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="subject"):
        Principal("")

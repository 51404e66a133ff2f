import json

import pytest
from agent_framework_hosting import DEFAULT_MAX_DEPTH, WireError, decode_json, encode_json


@pytest.mark.parametrize(
    "raw",
    [
        b'{"maximum": 1e400}',
        b'{"maximum": -1e400}',
        b"[NaN]",
        b'{"x": Infinity}',
        b"[-Infinity]",
    ],
)
def test_numbers_json_cannot_carry_are_invalid(raw: bytes) -> None:
    with pytest.raises(WireError) as caught:
        decode_json(raw)
    assert caught.value.fault == "invalid_json"
    assert caught.value.status == 400


def test_finite_numbers_decode_as_numbers() -> None:
    assert decode_json(b'{"a": 1.5e300, "b": -2, "c": 1e-400}') == {"a": 1.5e300, "b": -2, "c": 0.0}


def test_depth_at_the_limit_decodes_and_one_more_level_is_refused() -> None:
    at_limit = "[" * DEFAULT_MAX_DEPTH + "]" * DEFAULT_MAX_DEPTH
    assert decode_json(at_limit) is not None
    deeper = "[" * (DEFAULT_MAX_DEPTH + 1) + "]" * (DEFAULT_MAX_DEPTH + 1)
    with pytest.raises(WireError) as caught:
        decode_json(deeper)
    assert caught.value.fault == "too_deep"


def test_objects_count_toward_depth() -> None:
    nested = '{"a":' * 10 + "1" + "}" * 10
    with pytest.raises(WireError):
        decode_json(nested, max_depth=9)
    assert decode_json(nested, max_depth=10) is not None


def test_brackets_inside_strings_do_not_make_a_document_deep() -> None:
    text = json.dumps({"text": "[" * 500})
    assert decode_json(text) == {"text": "[" * 500}


def test_a_document_deeper_than_the_interpreter_can_decode_is_too_deep() -> None:
    with pytest.raises(WireError) as caught:
        decode_json("[" * 100_000 + "]" * 100_000)
    assert caught.value.fault == "too_deep"


def test_a_lone_surrogate_is_invalid_even_deep_inside() -> None:
    with pytest.raises(WireError) as caught:
        decode_json(b'{"a": [{"b": "\\ud800"}]}')
    assert caught.value.fault == "invalid_json"


def test_a_surrogate_pair_is_one_character() -> None:
    assert decode_json(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_a_body_past_its_limit_is_too_large() -> None:
    with pytest.raises(WireError) as caught:
        decode_json(b"[1, 2, 3]", limit=4)
    assert caught.value.status == 413


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe\x00", b'{"a": 1} x'])
def test_text_that_is_not_json_is_invalid(raw: bytes) -> None:
    with pytest.raises(WireError) as caught:
        decode_json(raw)
    assert caught.value.fault == "invalid_json"


def test_the_encoder_refuses_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode_json({"x": float("inf")})
    assert encode_json({"a": "é", "b": [1, 2.5]}) == '{"a":"é","b":[1,2.5]}'.encode()

"""The JSON document check (what PostgreSQL's JSON cannot store) agrees with its plain recursive definition."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from hypothesis import given, settings
from hypothesis import strategies as st

from app.generator.fields import MAX_JSON_DEPTH, STORABLE_TEXT, _check_json


def reference(value: Any, depth: int = 0) -> None:
    """The definition: depth first, keys before their values, the first problem is the message."""
    if depth > MAX_JSON_DEPTH:
        raise ma.ValidationError(f"Nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        if not STORABLE_TEXT.match(value):
            raise ma.ValidationError("Text must not contain NUL characters or lone surrogates.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            reference(key, depth + 1)
            reference(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            reference(item, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise ma.ValidationError("Integers in JSON documents must fit in 64 bits.")


def outcome(check: Any, value: Any) -> Any:
    try:
        check(value)
    except ma.ValidationError as error:
        return error.messages
    return None


text = st.sampled_from(["", "ok", "a\x00b", "\ud800", "é", "\x00"])
scalars = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=False), text,
    st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**70]),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(text, inner, max_size=3),
        st.dictionaries(text, inner, max_size=2).map(OrderedDict),
    ),
    max_leaves=12,
)


def nest(value: Any, levels: int, as_list: bool) -> Any:
    for _ in range(levels):
        value = [value] if as_list else {"k": value}
    return value


@settings(max_examples=400, deadline=None)
@given(documents)
def test_check_agrees_with_the_definition(document) -> None:  # type: ignore[no-untyped-def]
    assert outcome(_check_json, document) == outcome(reference, document)


@settings(max_examples=100, deadline=None)
@given(st.integers(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH + 2), st.booleans(), documents)
def test_depth_limits_agree_at_the_edge(levels, as_list, leaf) -> None:  # type: ignore[no-untyped-def]
    document = nest(leaf, levels, as_list)
    assert outcome(_check_json, document) == outcome(reference, document)
    for empty in ([], {}):
        assert outcome(_check_json, nest(empty, levels, as_list)) == outcome(reference, nest(empty, levels, as_list))

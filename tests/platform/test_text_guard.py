"""A NUL character anywhere in a JSON body is a 422 naming the field, in every domain, never a 500."""

from __future__ import annotations

import pytest

from app.text_guard import MESSAGE, nul_fields


def test_nul_fields_finds_nested_strings_and_keys():
    body = {"a": "ok", "b": {"c": ["x", "y\x00"]}, "d\x00": 1, "e": "\x00"}
    assert sorted(nul_fields(body)) == ["b.c.1", "d\x00", "e"]
    assert nul_fields({"clean": ["text", 1, None, {"k": "v"}]}) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/auth/signup",
            {"email": "n@example.com", "password": "password-123456", "display_name": "x\x00y"},
            "display_name",
        ),
        ("/auth/login", {"email": "n@example.com", "password": "p", "device_name": "d\x00"}, "device_name"),
        ("/listings", {"title": "t\x00", "photos": [{"key": "k\x00"}]}, "photos.0.key"),
    ],
)
def test_nul_characters_are_refused_with_field_errors(client, path, body, field):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][field] == [MESSAGE]

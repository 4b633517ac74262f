"""The pages account emails link to: opening a link spends nothing; the form's POST does, once."""

from __future__ import annotations

import re

from tests.auth.conftest import PASSWORD, last_token


def _hidden_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


def test_the_verification_link_shows_a_form_and_only_its_post_confirms(app, client, signup):
    account = signup()
    token = last_token(app, "auth.EmailVerificationRequested", account.email)

    for _ in range(2):  # a mail scanner prefetching the link twice spends nothing
        page = client.get(f"/verify-email?token={token}")
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert _hidden_token(page.get_data(as_text=True)) == token
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/auth/me", headers=account.headers).json["email_verified"] is False

    done = client.post("/verify-email", data={"token": token})
    assert done.status_code == 200
    assert "your email address is confirmed" in done.get_data(as_text=True)
    assert client.get("/auth/me", headers=account.headers).json["email_verified"] is True

    again = client.post("/verify-email", data={"token": token})
    assert again.status_code == 400
    assert "invalid, already used or expired" in again.get_data(as_text=True)


def test_links_without_a_token_and_forged_tokens_are_refused_and_escaped(client):
    assert client.get("/verify-email").status_code == 400
    assert client.get("/reset-password").status_code == 400
    forged = client.get('/verify-email?token="><script>alert(1)</script>')
    assert "<script>" not in forged.get_data(as_text=True)
    assert client.post("/verify-email", data={"token": "nope"}).status_code == 400


def test_password_reset_page_keeps_the_token_for_a_weak_password_then_changes_it(app, client, signup, login):
    account = signup()
    assert client.post("/auth/password/reset-request", json={"email": account.email}).status_code == 202
    token = last_token(app, "auth.PasswordResetRequested", account.email)
    assert _hidden_token(client.get(f"/reset-password?token={token}").get_data(as_text=True)) == token

    weak = client.post("/reset-password", data={"token": token, "new_password": "short"})
    assert weak.status_code == 422
    html = weak.get_data(as_text=True)
    assert "Use at least 10 characters." in html and _hidden_token(html) == token  # try again, same link

    new_password = "a much better passphrase"
    changed = client.post("/reset-password", data={"token": token, "new_password": new_password})
    assert changed.status_code == 200 and "Your password is changed" in changed.get_data(as_text=True)
    assert login(account.email, PASSWORD).status_code == 401
    assert login(account.email, new_password).status_code == 200
    assert client.get("/auth/me", headers=account.headers).status_code == 401  # sessions signed out
    assert client.post("/reset-password", data={"token": token, "new_password": new_password}).status_code == 400

"""Staff-granted roles (integrator): CLI and admin, audited, in tokens from the next refresh or sign-in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin.accounts import ensure_staff
from admin.roles import TRUST_SAFETY
from app.audit import AuditRecord
from app.extensions import db
from app.security.tokens import decode_access_token
from blueprints.auth.models import RoleGrant
from tests.auth.conftest import bearer
from tests.auth.test_suspension import staff_login


def refreshed(client, account) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/auth/token/refresh", json={"refresh_token": account.refresh})
    assert response.status_code == 200, response.json
    account.refresh = response.json["refresh_token"]
    return response.json["access_token"]


def roles_in(app, token: str) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return sorted(decode_access_token(token)["roles"])


def cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["auth", *args])


def audits(app, action: str) -> list[AuditRecord]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_cli_grant_reaches_the_token_at_the_next_refresh_and_revoke_takes_it_back(app, client, signup):
    account = signup()
    assert client.get("/webhooks/endpoints", headers=account.headers).status_code == 403

    result = cli(app, "grant-role", account.email.upper(), "integrator")
    assert result.exit_code == 0, result.output
    assert "integrator granted" in result.output and "next token refresh" in result.output
    # The token in hand is unchanged: roles are read when a token is minted.
    assert client.get("/webhooks/endpoints", headers=account.headers).status_code == 403
    token = refreshed(client, account)
    assert roles_in(app, token) == ["buyer", "integrator"]
    assert client.get("/webhooks/endpoints", headers=bearer(token)).status_code == 200
    assert client.get("/auth/me", headers=bearer(token)).json["granted_roles"] == ["integrator"]
    # Idempotent, and a sign-in carries it too.
    again = cli(app, "grant-role", account.email, "integrator")
    assert again.exit_code == 0 and "already had integrator" in again.output
    login = client.post("/auth/login", json={"email": account.email, "password": account.password})
    assert roles_in(app, login.json["access_token"]) == ["buyer", "integrator"]

    revoked = cli(app, "revoke-role", account.email, "integrator")
    assert revoked.exit_code == 0 and "integrator revoked" in revoked.output
    token = refreshed(client, account)
    assert roles_in(app, token) == ["buyer"]
    assert client.get("/webhooks/endpoints", headers=bearer(token)).status_code == 403
    assert "did not have integrator" in cli(app, "revoke-role", account.email, "integrator").output

    grant, *_ = audits(app, "auth.grant_role")
    assert grant.target_id == str(account.user_id) and grant.actor_type == "staff"
    assert grant.actor_id.startswith("cli:") and grant.inputs["role"] == "integrator"
    assert [a.result["changed"] for a in audits(app, "auth.grant_role")] == [True, False]
    assert [a.result["roles"] for a in audits(app, "auth.revoke_role")] == [[], []]


@pytest.mark.parametrize(
    ("role", "message"),
    [("wizard", "Unknown role 'wizard'"), ("staff", "Unknown role 'staff'"), ("seller", "choose 'seller' themselves")],
)
def test_cli_refuses_roles_staff_cannot_grant(app, client, signup, role, message):
    account = signup()
    result = cli(app, "grant-role", account.email, role)
    assert result.exit_code != 0 and message in result.output
    assert cli(app, "revoke-role", account.email, role).exit_code != 0
    assert roles_in(app, refreshed(client, account)) == ["buyer"]
    assert audits(app, "auth.grant_role") == []


def test_cli_refuses_an_unknown_account(app):
    result = cli(app, "grant-role", "nobody@example.test", "integrator")
    assert result.exit_code != 0 and "No such account" in result.output


def test_a_profile_edit_of_chosen_roles_keeps_the_granted_one(app, client, signup):
    account = signup()
    assert cli(app, "grant-role", account.email, "integrator").exit_code == 0
    edit = client.patch("/auth/me", json={"roles": ["seller"]}, headers=account.headers)
    assert edit.status_code == 200 and edit.json["roles"] == ["seller"]
    assert roles_in(app, refreshed(client, account)) == ["integrator", "seller"]


def staff_client_for(app, email: str, role: str):  # type: ignore[no-untyped-def]
    with app.app_context():
        ensure_staff(email=email, password="staff-password", role=role)
        db.session.commit()
    staff = app.test_client()
    staff_login(staff, email, "staff-password")
    return staff


def test_admin_grants_and_revokes_with_a_reason_audited(app, client, signup):
    account = signup()
    admin = staff_client_for(app, "admin-roles@bazaar.test", "Admin")
    action = admin.post(
        "/admin/auth/users/action_post", data={"action": "grant_role_action", "rowid": str(account.user_id)}
    )
    assert action.status_code == 302 and "/roles/" in action.headers["Location"]
    form = admin.get(action.headers["Location"])
    assert form.status_code == 200 and 'name="role"' in form.get_data(as_text=True)

    url = f"/admin/auth/users/roles/{account.user_id}"
    missing_reason = admin.post(f"{url}?change=grant", data={"role": "integrator", "reason": " "})
    assert missing_reason.status_code == 200  # the form again, nothing granted
    bad_role = admin.post(f"{url}?change=grant", data={"role": "staff", "reason": "why not"})
    assert bad_role.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(RoleGrant)).all() == []

    done = admin.post(f"{url}?change=grant", data={"role": "integrator", "reason": "Partner ACME, ticket 42"})
    assert done.status_code == 302
    assert roles_in(app, refreshed(client, account)) == ["buyer", "integrator"]
    [grant] = audits(app, "auth.grant_role")
    assert grant.actor_type == "staff" and not grant.actor_id.startswith("cli:")
    assert grant.inputs == {"role": "integrator", "reason": "Partner ACME, ticket 42"}

    revoked = admin.post(f"{url}?change=revoke", data={"role": "integrator", "reason": "Contract ended"})
    assert revoked.status_code == 302
    assert roles_in(app, refreshed(client, account)) == ["buyer"]
    assert [a.inputs["reason"] for a in audits(app, "auth.revoke_role")] == ["Contract ended"]


def test_trust_and_safety_staff_and_clients_cannot_grant_roles(app, client, signup):
    account = signup()
    agent = staff_client_for(app, "agent-roles@bazaar.test", TRUST_SAFETY)
    url = f"/admin/auth/users/roles/{account.user_id}?change=grant"
    denied = agent.post(url, data={"role": "integrator", "reason": "I would like to"})
    assert denied.status_code in (302, 403) and "/roles/" not in denied.headers.get("Location", "")
    assert agent.get(url).status_code in (302, 403)
    # A marketplace user's bearer token means nothing to the admin.
    assert client.post(url, data={"role": "integrator", "reason": "me"}, headers=account.headers).status_code in (
        302,
        401,
        403,
    )
    with app.app_context():
        assert db.session.scalars(select(RoleGrant)).all() == []
    assert roles_in(app, refreshed(client, account)) == ["buyer"]
    assert audits(app, "auth.grant_role") == []

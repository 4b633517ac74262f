"""Staff suspension from the admin: reason required, audited, announced, and effective immediately."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin.accounts import ensure_staff
from admin.roles import TRUST_SAFETY
from app.audit import AuditRecord
from app.extensions import db
from blueprints.auth import service
from blueprints.auth.models import UserStatusChange
from tests.auth.conftest import PASSWORD, assert_problem, published


def staff_login(client, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/admin/login/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    data = {"username": email, "password": password, **({"csrf_token": token.group(1)} if token else {})}
    assert client.post("/admin/login/", data=data).status_code == 302


@pytest.fixture
def agent(app_ctx):  # type: ignore[no-untyped-def]
    ensure_staff(email="agent@bazaar.test", password="agent-password", role=TRUST_SAFETY)
    db.session.commit()
    return "agent@bazaar.test", "agent-password"


@pytest.fixture
def staff_client(app, agent):  # type: ignore[no-untyped-def]
    client = app.test_client()
    staff_login(client, *agent)
    return client


def moderate(staff_client, user_id, to: str, reason: str):  # type: ignore[no-untyped-def]
    return staff_client.post(f"/admin/auth/users/moderate/{user_id}?to={to}", data={"reason": reason})


def test_admin_lists_searches_and_shows_marketplace_users(staff_client, signup):
    account = signup(email="findme@example.test")
    signup(email="other@example.test")
    page = staff_client.get("/admin/auth/users/list/")
    assert page.status_code == 200
    assert "findme@example.test" in page.get_data(as_text=True)
    search = staff_client.get("/admin/auth/users/list/?_flt_0_email=findme")
    html = search.get_data(as_text=True)
    assert "findme@example.test" in html and "other@example.test" not in html
    show = staff_client.get(f"/admin/auth/users/show/{account.user_id}")
    assert show.status_code == 200 and "findme@example.test" in show.get_data(as_text=True)


def test_suspension_from_the_admin_locks_the_user_out_immediately(app, client, staff_client, signup, login):
    account = signup()
    assert client.get("/auth/me", headers=account.headers).status_code == 200
    # The show page's action leads to the reason form.
    action = staff_client.post(
        "/admin/auth/users/action_post", data={"action": "suspend_action", "rowid": str(account.user_id)}
    )
    assert action.status_code == 302 and "/moderate/" in action.headers["Location"]
    form = staff_client.get(action.headers["Location"])
    assert form.status_code == 200 and 'name="reason"' in form.get_data(as_text=True)

    done = moderate(staff_client, account.user_id, "suspended", "Selling counterfeit goods (case 1234)")
    assert done.status_code == 302
    # The access token already in hand stops working now, not in 15 minutes.
    assert_problem(client.get("/auth/me", headers=account.headers), 401)
    assert_problem(client.post("/auth/token/refresh", json={"refresh_token": account.refresh}), 401)
    assert_problem(login(account.email), 403, kind="account-suspended")
    assert_problem(client.get(f"/auth/users/{account.user_id}"), 404)
    client.post("/auth/password/reset-request", json={"email": account.email})
    assert published(app, "auth.PasswordResetRequested") == []  # no way back in through a reset

    events = published(app, "auth.UserSuspended")
    assert len(events) == 1
    assert events[0]["reason"] == "Selling counterfeit goods (case 1234)"
    assert events[0]["sessions_revoked"] == 1
    assert events[0]["_actor"].startswith("staff:")
    with app.app_context():
        change = db.session.scalars(select(UserStatusChange)).one()
        assert (change.from_status, change.to_status, change.actor_type) == ("active", "suspended", "staff")
        audit = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "auth.suspend_user")).one()
        assert audit.target_id == str(account.user_id)
        assert audit.actor_type == "staff" and audit.actor_id
        assert audit.inputs == {"reason": "Selling counterfeit goods (case 1234)"}


def test_reason_is_required(app, client, staff_client, signup):
    account = signup()
    response = moderate(staff_client, account.user_id, "suspended", "   ")
    assert response.status_code == 200  # the form again, with its error
    assert client.get("/auth/me", headers=account.headers).status_code == 200
    assert published(app, "auth.UserSuspended") == []


def test_reinstated_user_can_sign_in_again_but_old_sessions_stay_dead(app, client, staff_client, signup, login):
    account = signup()
    moderate(staff_client, account.user_id, "suspended", "Chargebacks")
    assert moderate(staff_client, account.user_id, "active", "Appeal accepted").status_code == 302
    assert login(account.email).status_code == 200
    assert_problem(client.get("/auth/me", headers=account.headers), 401)
    assert [e["reason"] for e in published(app, "auth.UserReinstated")] == ["Appeal accepted"]
    with app.app_context():
        transitions = db.session.scalars(select(UserStatusChange).order_by(UserStatusChange.occurred_at)).all()
        assert [(t.from_status, t.to_status) for t in transitions] == [("active", "suspended"), ("suspended", "active")]


def test_suspending_twice_is_refused_without_a_second_record(app, staff_client, signup):
    account = signup()
    moderate(staff_client, account.user_id, "suspended", "First")
    page = staff_client.get(moderate(staff_client, account.user_id, "suspended", "Again").headers["Location"])
    assert "cannot become suspended" in page.get_data(as_text=True)
    assert len(published(app, "auth.UserSuspended")) == 1


def test_moderation_needs_staff(client, signup):
    account = signup()
    response = client.post(f"/admin/auth/users/moderate/{account.user_id}?to=suspended", data={"reason": "x"})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    # A marketplace token is no staff identity either.
    response = client.post(
        f"/admin/auth/users/moderate/{account.user_id}?to=suspended", data={"reason": "x"}, headers=account.headers
    )
    assert response.status_code == 302
    assert client.get("/auth/me", headers=account.headers).status_code == 200


def test_staff_session_is_not_a_marketplace_identity(client, agent, staff_client):
    # Logged in to /admin (session cookie): client APIs still see an anonymous caller.
    assert staff_client.get("/admin/auth/users/list/").status_code == 200
    assert_problem(staff_client.get("/auth/me"), 401)
    assert_problem(staff_client.get("/auth/sessions"), 401)
    # Staff credentials are not marketplace credentials.
    email, password = agent
    assert_problem(client.post("/auth/login", json={"email": email, "password": password}), 401)


def test_service_suspension_by_another_domain_is_immediate(app, client, signup):
    account = signup()
    with app.app_context():
        service.suspend_user(user_id=account.user_id, reason="Risk score 97", actor_type="system", actor_id=None)
        db.session.commit()
    assert_problem(client.get("/auth/me", headers=account.headers), 401)
    assert published(app, "auth.UserSuspended")[0]["_actor"] == "system"


def test_login_of_suspended_user_is_refused_only_after_the_right_password(app, client, signup, login):
    account = signup()
    with app.app_context():
        service.suspend_user(user_id=account.user_id, reason="Spam", actor_type="system", actor_id=None)
        db.session.commit()
    assert_problem(login(account.email, "wrong password!"), 401, kind="invalid-credentials")
    assert_problem(login(account.email, PASSWORD), 403, kind="account-suspended")

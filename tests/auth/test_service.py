"""The functions other domains call: profiles, existence, contact, registration (no ORM rows leak)."""

from __future__ import annotations

import uuid

import pytest

from app.extensions import db
from app.security.stepup import mfa_enrolled
from blueprints.auth import service
from blueprints.auth.errors import AuthError
from tests.auth.conftest import PASSWORD, published


def test_public_profiles_for_other_domains(app_ctx, signup):
    alice, bob = signup(display_name="Alice", roles=["seller"]), signup(display_name="Bob")
    profile = service.get_public_profile(user_id=alice.user_id)
    assert isinstance(profile, service.PublicProfile)
    assert (profile.display_name, profile.roles, profile.active) == ("Alice", ("seller",), True)
    assert not hasattr(profile, "email")
    assert service.get_public_profile(user_id=uuid.uuid4()) is None
    many = service.get_public_profiles(user_ids=[alice.user_id, bob.user_id, uuid.uuid4()])
    assert {p.display_name for p in many.values()} == {"Alice", "Bob"}
    assert service.get_public_profiles(user_ids=[]) == {}


def test_existence_activity_roles_and_contact(app_ctx, signup):
    account = signup(roles=["buyer", "seller"])
    assert service.user_exists(user_id=account.user_id) is True
    assert service.user_exists(user_id=uuid.uuid4()) is False
    assert service.is_active(user_id=account.user_id) is True
    assert service.has_role(user_id=account.user_id, role="seller") is True
    contact = service.get_contact(user_id=account.user_id)
    assert (contact.email, contact.email_verified, contact.active) == (account.email, False, True)
    service.suspend_user(user_id=account.user_id, reason="test", actor_type="system", actor_id=None)
    db.session.commit()
    assert service.user_exists(user_id=account.user_id) is True
    assert service.is_active(user_id=account.user_id) is False
    assert service.has_role(user_id=account.user_id, role="seller") is False
    assert service.get_public_profile(user_id=account.user_id).active is False


def test_register_user_for_seeds(app, app_ctx):
    user_id = service.register_user(
        email="Seed@Example.test", password=PASSWORD, display_name="Seed", roles=["seller"], verified=True
    )
    db.session.commit()
    assert service.get_contact(user_id=user_id).email_verified is True
    assert [e["email"] for e in published(app, "auth.UserRegistered")] == ["seed@example.test"]
    assert published(app, "auth.EmailVerificationRequested") == []  # verified: no mail to send
    with pytest.raises(AuthError) as excinfo:
        service.register_user(email="seed@example.test", password=PASSWORD, display_name="Again")
    assert excinfo.value.status == 409
    db.session.rollback()


def test_step_up_asks_the_auth_domain_live(app, client, mfa_account, signup):
    plain = signup()
    enrolled, _secret, _codes = mfa_account()
    with app.test_request_context():
        assert mfa_enrolled(plain.user_id) is False
        assert mfa_enrolled(enrolled.user_id) is True
        assert mfa_enrolled(uuid.uuid4()) is False  # token_for users of other domains' tests


def test_refusals_reach_other_domains_views_as_problem_json(app, make_app):
    other = make_app()

    @other.post("/elsewhere/suspend")
    def suspend_from_another_domain():  # type: ignore[no-untyped-def]
        service.suspend_user(user_id=uuid.uuid4(), reason="fraud", actor_type="system", actor_id=None)
        return {}

    response = other.test_client().post("/elsewhere/suspend")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/not-found")
    with pytest.raises(service.AuthError), app.app_context():
        service.reinstate_user(user_id=uuid.uuid4(), reason="x", actor_type="system", actor_id=None)

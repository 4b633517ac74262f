"""Staff admin: DB login at /admin, a dashboard with data, and TrustSafety kept out of staff management."""

from __future__ import annotations

import re

import pytest

from admin.accounts import ensure_staff
from admin.roles import TRUST_SAFETY
from app.db import utcnow
from blueprints.listings.models import ListingStatus
from tests.listings.factories import make_category, make_listing


def login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/admin/login/")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    data = {"username": email, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    return client.post("/admin/login/", data=data)


@pytest.fixture
def staff(app_ctx):  # type: ignore[no-untyped-def]
    ensure_staff(email="boss@bazaar.test", password="boss-password", role="Admin")
    ensure_staff(email="agent@bazaar.test", password="agent-password", role=TRUST_SAFETY)
    from app.extensions import db

    db.session.commit()


def test_dashboard_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]


def test_wrong_password_is_refused(client, staff):
    login(client, "boss@bazaar.test", "nope")
    assert client.get("/admin/").status_code == 302


def test_admin_logs_in_and_sees_dashboard_with_chart(client, staff):
    response = login(client, "boss@bazaar.test", "boss-password")
    assert response.status_code == 302
    page = client.get("/admin/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Marketplace at a glance" in html
    assert 'class="bz-chart"' in html
    assert client.get("/admin/users/list/").status_code == 200


def test_trust_and_safety_cannot_manage_staff(client, staff):
    login(client, "agent@bazaar.test", "agent-password")
    assert client.get("/admin/").status_code == 200
    for url in ("/admin/users/list/", "/admin/roles/list/", "/admin/users/add"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert "/admin/users" not in response.headers["Location"]


def test_admin_errors_stay_html(client, staff):
    login(client, "boss@bazaar.test", "boss-password")
    response = client.get("/admin/does-not-exist/")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_ensure_staff_is_idempotent_and_resets_password(app_ctx):
    assert ensure_staff(email="x@bazaar.test", password="first-password", role="Admin") is True
    assert ensure_staff(email="x@bazaar.test", password="second-password", role=TRUST_SAFETY) is False
    sm = app_ctx.appbuilder.sm
    user = sm.find_user(email="x@bazaar.test")
    assert [r.name for r in user.roles] == [TRUST_SAFETY]
    assert sm.auth_user_db("x@bazaar.test", "second-password") is not None


def chart_bars(html: str, title: str) -> dict[str, str]:
    """label -> shown value of the bars of the dashboard chart titled ``title``."""
    svg = re.search(rf'<svg class="bz-chart" role="img" aria-label="{re.escape(title)}".*?</svg>', html, re.S)
    assert svg, f"no chart {title!r}"
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(0))
    return dict(zip(texts[1::2], texts[2::2], strict=False))


def test_dashboard_charts_listings_negotiations_and_payments_by_state(client, staff):
    category = make_category(name="Lamps")
    for status in (ListingStatus.PUBLISHED, ListingStatus.PUBLISHED, ListingStatus.SOLD):
        make_listing(category_id=category, status=status)
    make_listing(category_id=category, status=ListingStatus.PUBLISHED, deleted_at=utcnow())
    login(client, "agent@bazaar.test", "agent-password")
    html = client.get("/admin/").get_data(as_text=True)
    # A soft-deleted listing is not counted as published: it has its own bar.
    assert chart_bars(html, "Listings by status") == {"published": "2", "sold": "1", "deleted": "1"}
    # Nothing negotiated or paid yet: the charts say so instead of drawing empty bars.
    for title in ("Negotiations by status", "Payments by state"):
        assert chart_bars(html, title) == {} and "No data yet" in html

"""Trust-and-safety staff in a real browser (headless Chromium): log in, find things, moderate.

The dashboard screenshot is kept in ``test-artifacts/admin-dashboard.png``.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.slow

TRUST_SAFETY = ("trust@bazaar.local", "bazaar-trust")


@pytest.fixture
def staff_page(browser, system):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(system.url("/admin/login/"))
    page.fill("input[name=username]", TRUST_SAFETY[0])
    page.fill("input[name=password]", TRUST_SAFETY[1])
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(system.url("/admin/"))
    yield page
    context.close()


def test_trust_and_safety_sees_the_dashboard_with_data(staff_page):
    staff_page.goto(staff_page.url)
    assert staff_page.locator("text=Marketplace at a glance").is_visible()
    assert staff_page.locator("svg.bz-chart").count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    staff_page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)


@pytest.mark.parametrize("path", ["/admin/users/list/", "/admin/roles/list/", "/admin/users/add"])
def test_trust_and_safety_cannot_open_staff_management(staff_page, system, path):
    response = staff_page.goto(system.url(path))
    assert response.status == 403
    assert "permission" in staff_page.inner_text("body")

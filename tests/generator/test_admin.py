"""Generated admin views: pages, CSV export, lookups, staff writes, actions, roles and the audit log."""

from __future__ import annotations

import csv
import io
import re
import uuid

from sqlalchemy import select

from app.audit import AuditRecord
from app.extensions import db
from tests.generator.demo import Item, Shelf, Status
from tests.generator.factories import make_item, make_items, make_shelf

ITEMS = "/admin/demo/item"
SHELVES = "/admin/demo/shelf"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_admin_requires_a_staff_login(gen_client):
    response = gen_client.get(f"{ITEMS}/list/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_list_show_and_related_list(gen_app, admin_client, shelf):
    item = make_item(gen_app, shelf_id=shelf, title="Vintage lamp")
    page = admin_client.get(f"{ITEMS}/list/")
    assert page.status_code == 200
    assert "Vintage lamp" in text(page)
    assert "Export CSV" in text(page)
    show = admin_client.get(f"{ITEMS}/show/{item}")
    assert show.status_code == 200
    assert "Vintage lamp" in text(show)
    shelf_show = admin_client.get(f"{SHELVES}/show/{shelf}")
    assert shelf_show.status_code == 200
    assert "Vintage lamp" in text(shelf_show)  # related items on the shelf's page


def test_search_filters_by_text_and_uuid(gen_app, admin_client, shelf):
    seller = uuid.uuid4()
    make_item(gen_app, shelf_id=shelf, title="Red chair", seller_id=seller)
    make_item(gen_app, shelf_id=shelf, title="Blue table")
    page = admin_client.get(f"{ITEMS}/list/?_flt_2_title=chair")
    assert "Red chair" in text(page) and "Blue table" not in text(page)
    page = admin_client.get(f"{ITEMS}/list/?_flt_0_seller_id={seller}")
    assert "Red chair" in text(page) and "Blue table" not in text(page)
    page = admin_client.get(f"{ITEMS}/list/?_flt_0_seller_id=not-a-uuid")
    assert page.status_code == 200
    assert "Red chair" not in text(page)


def test_unknown_or_malformed_ids_are_404(admin_client):
    assert admin_client.get(f"{ITEMS}/show/{uuid.uuid4()}").status_code == 404
    assert admin_client.get(f"{ITEMS}/show/nope").status_code == 404


def test_csv_export_follows_the_filters(gen_app, admin_client, shelf):
    make_items(gen_app, 3, shelf_id=shelf)
    make_item(gen_app, shelf_id=shelf, title="=HYPERLINK(evil)")
    response = admin_client.get(f"{ITEMS}/export_csv/")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert len(rows) == 4
    assert {"id", "seller_id", "title", "price_amount", "status", "deleted_at"} <= set(rows[0])
    assert "'=HYPERLINK(evil)" in {r["title"] for r in rows}  # no formula injection
    filtered = admin_client.get(f"{ITEMS}/export_csv/?_flt_2_title=Item 001")
    assert [r["title"] for r in csv.DictReader(io.StringIO(text(filtered)))] == ["Item 001"]


def test_lookup_endpoint_pages_through_matching_rows(gen_app, admin_client):
    for index in range(25):
        make_shelf(gen_app, name=f"Sport {index:02d}", slug=f"sport-{index:02d}")
    make_shelf(gen_app, name="Garden", slug="garden")
    first = admin_client.get(f"{ITEMS}/lookup/shelf?term=sport").json
    assert len(first["results"]) == 20 and first["pagination"]["more"] is True
    second = admin_client.get(f"{ITEMS}/lookup/shelf?term=sport&page=2").json
    assert len(second["results"]) == 5 and second["pagination"]["more"] is False
    assert admin_client.get(f"{ITEMS}/lookup/seller_id").status_code == 404


def test_edit_form_uses_ajax_select_and_hides_read_only_fields(gen_app, admin_client, shelf):
    item = make_item(gen_app, shelf_id=shelf)
    form = text(admin_client.get(f"{ITEMS}/edit/{item}"))
    assert 'data-ajax--url="/admin/demo/item/lookup/shelf"' in form
    assert 'name="title"' in form
    assert 'name="status"' not in form and 'name="seller_id"' not in form


def test_staff_edit_is_validated_like_the_api_and_audited(gen_app, admin_client, shelf):
    item = make_item(gen_app, shelf_id=shelf)
    form = {
        "title": "Edited by staff",
        "description": "",
        "price_amount": "1500",
        "currency": "EUR",
        "quantity": "1",
        "condition": "good",
        "shelf": str(shelf),
    }
    response = admin_client.post(f"{ITEMS}/edit/{item}", data=form)
    assert response.status_code == 302, text(response)[:2000]
    with gen_app.app_context():
        row = db.session.get(Item, item)
        assert (row.title, row.price_amount) == ("Edited by staff", 1500)
        record = db.session.execute(select(AuditRecord)).scalar_one()
        assert record.action == "demo.Item.update"
        assert record.actor_type == "staff"
        assert record.inputs["title"] == ["A thing", "Edited by staff"]

    bad = admin_client.post(f"{ITEMS}/edit/{item}", data={**form, "currency": "euro"})
    assert bad.status_code == 200  # the form again, with the error
    assert "currency" in text(bad)
    with gen_app.app_context():
        assert db.session.get(Item, item).currency == "EUR"


def test_shelf_add_with_json_attributes(gen_app, admin_client):
    form = {"name": "Cameras", "slug": "cameras", "attributes_schema": '{"type": "object"}', "parent": ""}
    response = admin_client.post(f"{SHELVES}/add", data=form)
    assert response.status_code == 302, text(response)[:2000]
    with gen_app.app_context():
        row = db.session.execute(select(Shelf).where(Shelf.slug == "cameras")).scalar_one()
        assert row.attributes_schema == {"type": "object"}
    for attributes, message in (("[1]", "Not a valid mapping type"), ("{nope", "Not valid JSON")):
        bad = admin_client.post(
            f"{SHELVES}/add", data={**form, "slug": "other", "attributes_schema": attributes}, follow_redirects=True
        )
        assert bad.status_code == 200
        assert message in text(bad)  # the API schema's message, shown to staff
    with gen_app.app_context():
        assert db.session.execute(select(Shelf).where(Shelf.slug == "other")).first() is None


def test_item_add_and_delete_are_not_offered_to_staff(gen_app, admin_client, shelf):
    item = make_item(gen_app, shelf_id=shelf)
    assert admin_client.get(f"{ITEMS}/add").status_code in (302, 403, 404)
    admin_client.post(f"{ITEMS}/delete/{item}")
    with gen_app.app_context():
        assert db.session.get(Item, item).deleted_at is None


def test_bulk_action_runs_per_row_and_reports_failures(gen_app, admin_client, shelf):
    removed = make_items(gen_app, 2, shelf_id=shelf, status=Status.REMOVED)
    draft = make_item(gen_app, shelf_id=shelf, status=Status.DRAFT)
    data = {"action": "reinstate", "rowid": [str(i) for i in [*removed, draft]]}
    response = admin_client.post(f"{ITEMS}/action_post", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "Reinstate: 2 done." in text(response)
    with gen_app.app_context():
        assert [db.session.get(Item, i).status for i in removed] == [Status.PAUSED] * 2
        assert db.session.get(Item, draft).status is Status.DRAFT
        outcomes = sorted(r.outcome for r in db.session.execute(select(AuditRecord)).scalars())
        assert outcomes == ["failed", "ok", "ok"]
        actors = {r.actor_type for r in db.session.execute(select(AuditRecord)).scalars()}
        assert actors == {"staff"}


def test_trust_and_safety_removes_an_item_through_the_action_form(gen_app, trust_safety_client, shelf):
    item = make_item(gen_app, shelf_id=shelf, title="Fake watch")
    gen_client = trust_safety_client
    show = text(gen_client.get(f"{ITEMS}/show/{item}"))
    assert "Remove..." in show
    button = gen_client.post(f"{ITEMS}/action/remove/{item}")
    assert button.status_code == 302
    form_url = button.headers["Location"]
    assert form_url.endswith(f"/run/remove/{item}")
    form = gen_client.get(form_url)
    assert form.status_code == 200 and 'name="reason"' in text(form)
    too_short = gen_client.post(form_url, data={"reason": "no"})
    assert too_short.status_code == 200
    assert "Shorter than minimum length" in text(too_short) or "Length" in text(too_short)
    done = gen_client.post(form_url, data={"reason": "Counterfeit brand"})
    assert done.status_code == 302
    with gen_app.app_context():
        assert db.session.get(Item, item).status is Status.REMOVED
        record = db.session.execute(select(AuditRecord).where(AuditRecord.outcome == "ok")).scalar_one()
        assert record.action == "demo.remove" and record.inputs == {"reason": "Counterfeit brand"}


def test_trust_and_safety_reads_exports_but_cannot_edit_or_manage_staff(gen_app, trust_safety_client, shelf):
    item = make_item(gen_app, shelf_id=shelf)
    gen_client = trust_safety_client
    assert gen_client.get(f"{ITEMS}/list/").status_code == 200
    assert gen_client.get(f"{ITEMS}/export_csv/").status_code == 200
    assert gen_client.get("/admin/platform/audit/list/").status_code == 200
    assert gen_client.get(f"{ITEMS}/edit/{item}").status_code == 403
    assert gen_client.post(f"{ITEMS}/edit/{item}", data={"title": "defaced"}).status_code == 403
    assert gen_client.get("/admin/users/list/").status_code == 403
    assert gen_client.get("/admin/roles/list/").status_code == 403
    with gen_app.app_context():
        assert db.session.get(Item, item).title == "A thing"


def test_generated_permission_names_fit_the_trust_safety_role(gen_app):
    from admin.roles import ACTION_PERMISSIONS, READ_PERMISSIONS

    allowed = re.compile(rf"^({READ_PERMISSIONS}|{ACTION_PERMISSIONS})$")
    with gen_app.app_context():
        views = gen_app.appbuilder.__dict__["bazaar_admin_views"]
        for view in views.values():
            granted = [p for p in view.base_permissions if allowed.match(p)]
            assert set(granted) >= {"can_list", "can_show", "can_export_csv"}
            if any(a.allow.admits_staff for a in view.compiled.resource.actions):
                assert "can_run_action" in granted
            assert all(p in ("can_add", "can_edit", "can_delete") for p in set(view.base_permissions) - set(granted))


def test_audit_log_is_browsable_and_read_only(gen_app, admin_client, shelf, seller, gen_client):
    draft = make_item(gen_app, shelf_id=shelf, seller_id=seller.id, status=Status.DRAFT)
    with gen_app.test_client() as api:
        assert api.post(f"/demo/{draft}/publish", headers=seller.headers).status_code == 200
    page = admin_client.get("/admin/platform/audit/list/")
    assert page.status_code == 200
    assert "demo.publish" in text(page)
    assert admin_client.get("/admin/platform/audit/add").status_code in (302, 403, 404)
    export = admin_client.get("/admin/platform/audit/export_csv/?_flt_0_action=demo.publish")
    rows = list(csv.DictReader(io.StringIO(text(export))))
    assert [r["action"] for r in rows] == ["demo.publish"]

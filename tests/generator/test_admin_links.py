"""Generated admin pages lead on: declared links on show pages, id columns as links, lists in the
resource's own order (AdminOptions.links / column_links, Resource.default_sort)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from app.db import utcnow
from tests.generator.factories import make_item, make_shelf

ITEMS = "/admin/demo/item"
SHELVES = "/admin/demo/shelf"


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_show_page_offers_the_declared_links_filled_from_the_row(gen_app, trust_safety_client, shelf):
    seller = uuid.uuid4()
    item = make_item(gen_app, shelf_id=shelf, title="Brass lamp", seller_id=seller)
    page = text(trust_safety_client.get(f"{ITEMS}/show/{item}"))
    see_also = re.findall(r'class="btn btn-sm btn-default bz-link" href="([^"]+)"', page)
    assert see_also == [f"/admin/demo/item/list/?_flt_0_seller_id={seller}"]
    followed = text(trust_safety_client.get(see_also[0]))
    assert "Brass lamp" in followed
    # A shelf declares no links: no empty bar either.
    assert "bz-see-also" not in text(trust_safety_client.get(f"{SHELVES}/show/{shelf}"))


def test_id_columns_are_links_in_lists_and_show_pages(gen_app, admin_client, shelf):
    seller = uuid.uuid4()
    item = make_item(gen_app, shelf_id=shelf, title="Oak stool", seller_id=seller)
    link = f'<a class="bz-ref" href="/admin/demo/item/list/?_flt_0_seller_id={seller}">{seller}</a>'
    assert link in text(admin_client.get(f"{ITEMS}/show/{item}"))
    assert link in text(admin_client.get(f"{ITEMS}/list/"))


def test_lists_open_in_the_resource_default_order(gen_app, admin_client, shelf):
    now = utcnow()
    make_item(gen_app, shelf_id=shelf, title="Older desk", created_at=now - timedelta(hours=2))
    make_item(gen_app, shelf_id=shelf, title="Newer desk", created_at=now - timedelta(hours=1))
    items = text(admin_client.get(f"{ITEMS}/list/"))
    assert items.index("Newer desk") < items.index("Older desk")  # default_sort="-created_at"
    make_shelf(gen_app, name="Zebra shelf", slug="zebra")
    make_shelf(gen_app, name="Apple shelf", slug="apple")
    shelves = text(admin_client.get(f"{SHELVES}/list/"))
    assert shelves.index("Apple shelf") < shelves.index("Bikes") < shelves.index("Zebra shelf")  # default_sort="name"


def test_a_link_naming_a_missing_column_fails_when_the_view_is_built():
    import pytest

    from app.generator.admin import _check_links
    from tests.generator.demo import Item

    columns = ["id", "seller_id"]
    _check_links(Item, [("Seller", "/x?s={seller_id}")], {"seller_id": "/u/{value}"}, columns)
    with pytest.raises(TypeError, match="no column sellr_id"):
        _check_links(Item, [("Seller", "/x?s={sellr_id}")], {}, columns)
    _check_links(Item, [], {"buyer_id": "/u/{value}"}, columns)  # a shared map: other models' columns pass
    with pytest.raises(TypeError, match="column link 'seller_id'"):
        _check_links(Item, [], {"seller_id": "/u/{id}"}, columns)


def test_a_labelled_resource_titles_its_list_and_its_tab_on_parent_pages(gen_app):
    from app.generator.admin import ADMIN_VIEWS
    from blueprints.offers.models import Negotiation, OfferTransition

    views = gen_app.appbuilder.__dict__[ADMIN_VIEWS]
    assert views[OfferTransition].list_title == "Offer timeline (offers)"  # label="Offer timeline"
    assert views[Negotiation].list_title == "Negotiation (offers)"  # no label: the model's name
    assert views[OfferTransition] in views[Negotiation]._related_views

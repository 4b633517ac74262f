"""The REST resource of a compiled declaration: one smorest Blueprint per model and app.

Routes (under the domain prefix + resource path): ``GET ""`` list, ``POST ""`` create,
``GET /<id>`` read (ETag, 304), ``PATCH /<id>`` partial update (If-Match: 428 without, 412 stale),
``DELETE /<id>`` delete or soft delete (If-Match too). Operations whose rule is NOBODY get no route.
Checks run in this order: 401 (anonymous where a user is needed), 428, 400/422 (input), 404 (not
visible), 403 (visible, not allowed), 412 (stale), then one transaction writes everything or nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_smorest import Blueprint, abort

from app.db import utcnow
from app.extensions import db
from app.generator.access import Actor, call_service, check_references, load_for_change, require_principal
from app.generator.compiled import Compiled
from app.generator.hooks import cursor_types
from app.generator.http import (
    ETAG_HEADER,
    IF_MATCH,
    IF_NONE_MATCH,
    QueryArgs,
    document,
    json_response,
    one_transaction,
    parse,
    snake,
)
from app.generator.pagination import codec_for
from app.generator.queries import etag_of, fetch_embeds, get_one, list_page, reading
from app.generator.rules import NOBODY


def apply_values(compiled: Compiled, obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Write loaded API values onto the model; returns them by model attribute (money split in two)."""
    by_attr: dict[str, Any] = {}
    for name, value in values.items():
        money = compiled.resource.money.get(name)
        if money is not None:
            by_attr[money.amount] = None if value is None else value["amount"]
            by_attr[money.currency] = None if value is None else value["currency"]
        else:
            by_attr[name] = value
    for attr, value in by_attr.items():
        setattr(obj, attr, value)
    return by_attr


def _sparse(compiled: Compiled, full: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    names = args.get("fields")
    body = {k: v for k, v in full.items() if k in names} if names else dict(full)
    return body


def build_blueprint(compiled: Compiled, domain_name: str) -> Blueprint:
    resource = compiled.resource
    policy = resource.policy
    model_name = compiled.model.__name__
    id_name = f"{snake(model_name)}_id"
    item_rule = f"/<uuid:{id_name}>"
    blp = Blueprint(
        f"{domain_name}_{snake(model_name)}",
        __name__,
        description=resource.description or (compiled.model.__doc__ or model_name).strip().splitlines()[0],
    )
    output = compiled.schemas.output
    get_args = compiled.get_args()
    create_schema, update_schema = compiled.schemas.create(), compiled.schemas.update()
    codec_holder: dict[str, Any] = {}

    def codec() -> Any:
        app_codec = codec_holder.get("codec")
        if app_codec is None:
            app_codec = codec_holder["codec"] = codec_for(compiled.key, cursor_types(resource, compiled.column_types))
        return app_codec

    list_rule = policy.list_rule
    list_args_parser = QueryArgs(compiled.list_args)

    @blp.route("", methods=["GET"], endpoint="list")
    @blp.response(200, compiled.page)
    @document(
        blp,
        summary=f"List {model_name} objects",
        auth=list_rule.requires_auth,
        errors=(400, 401, 422),
        parameters=[{"in": "query", "schema": compiled.list_args}],
    )
    def list_view() -> Response:
        principal = require_principal(list_rule)
        args = list_args_parser.parse()
        response = json_response(list_page(compiled, args, principal, codec()))
        return response

    item_output = output
    if resource.detail_schema is not None:  # the item response = the resource + the domain's detail keys
        item_output = type(f"{compiled.schema_name}DetailSchema", (output, resource.detail_schema), {})

    def document_of(source: Any, principal: Any) -> dict[str, Any]:
        """The full item document (what the ETag versions): the row plus the domain's detail keys."""
        full = compiled.dump_fn()(source)
        if resource.detail is not None:
            full.update(resource.detail(obj_id=getattr(source, compiled.pk), principal=principal))
        return full

    @blp.route(item_rule, methods=["GET"], endpoint="get")
    @blp.response(200, item_output, headers=ETAG_HEADER)
    @document(
        blp,
        summary=f"Read a {model_name}",
        auth=policy.read.requires_auth,
        errors=(304, 401, 404, 422),
        parameters=[{"in": "query", "schema": compiled.get_args}, IF_NONE_MATCH],
    )
    def get_view(**path: Any) -> Response:
        principal = require_principal(policy.read)
        args = parse(get_args, "query")
        with reading() as connection:
            row = get_one(compiled, path[id_name], principal, connection)
            if row is None:
                abort(404, message=f"No such {model_name}.")
            full = document_of(row, principal)
            etag = etag_of(full)
            if request.if_none_match.contains(etag):
                not_modified = Response(status=304)
                not_modified.set_etag(etag)
                return not_modified
            body = _sparse(compiled, full, args)
            embed = args.get("embed") or ()
            if embed:
                embedded = fetch_embeds(compiled, [row], embed, principal, connection)
                for name in embed:
                    body[name] = embedded[name].get(getattr(row, compiled.embeds[name].local_column))
        response = json_response(body)
        response.set_etag(etag)
        return response

    def respond_with(obj: Any, status: int, principal: Any) -> Response:
        full = document_of(obj, principal)
        response = json_response(full, status)
        response.set_etag(etag_of(full))
        return response

    if policy.create is not NOBODY:

        @blp.route("", methods=["POST"], endpoint="create")
        @blp.response(201, output, headers={**ETAG_HEADER, "Location": {"schema": {"type": "string"}}})
        @document(
            blp,
            summary=f"Create a {model_name}",
            auth=policy.create.requires_auth,
            errors=(400, 401, 403, 409, 422),
            requestBody={"required": True, "content": {"application/json": {"schema": compiled.schemas.create}}},
        )
        @one_transaction
        def create_view() -> Response:
            principal = require_principal(policy.create)
            data = parse(create_schema, "json")
            obj = compiled.model()
            values = apply_values(compiled, obj, data)
            policy.create.stamp(obj, principal)
            if not policy.create.allows(principal, obj):
                abort(403, message=f"You may not create this {model_name}.")
            check_references(compiled, values, principal)
            if resource.on_create is not None:
                call_service(resource.on_create, obj=obj, actor=Actor.from_principal(principal))
            db.session.add(obj)
            db.session.flush()
            response = respond_with(obj, 201, principal)
            db.session.commit()
            response.headers["Location"] = url_for(".get", **{id_name: getattr(obj, compiled.pk)})
            return response

    if policy.update is not NOBODY:

        @blp.route(item_rule, methods=["PATCH"], endpoint="update")
        @blp.response(200, output, headers=ETAG_HEADER)
        @document(
            blp,
            summary=f"Change a {model_name} (only the fields sent)",
            auth=policy.update.requires_auth,
            errors=(400, 401, 403, 404, 409, 412, 422, 428),
            parameters=[IF_MATCH],
            requestBody={"required": True, "content": {"application/json": {"schema": compiled.schemas.update}}},
        )
        @one_transaction
        def update_view(**path: Any) -> Response:
            principal = require_principal(policy.update)
            require_if_match()
            data = parse(update_schema, "json")
            obj = load_for_change(compiled, path[id_name], policy.update, principal)
            check_etag(document_of(obj, principal))
            values = apply_values(compiled, obj, data)
            check_references(compiled, values, principal)
            if resource.on_update is not None:
                call_service(resource.on_update, obj=obj, actor=Actor.from_principal(principal), changes=values)
            db.session.flush()
            response = respond_with(obj, 200, principal)
            db.session.commit()
            return response

    if policy.delete is not NOBODY:

        @blp.route(item_rule, methods=["DELETE"], endpoint="delete")
        @blp.response(204)
        @document(
            blp,
            summary=f"Delete a {model_name}" + (" (soft: it disappears for clients)" if resource.soft_delete else ""),
            auth=policy.delete.requires_auth,
            errors=(401, 403, 404, 409, 412, 428),
            parameters=[IF_MATCH],
        )
        @one_transaction
        def delete_view(**path: Any) -> Response:
            principal = require_principal(policy.delete)
            require_if_match()
            obj = load_for_change(compiled, path[id_name], policy.delete, principal)
            check_etag(document_of(obj, principal))
            if resource.soft_delete:
                setattr(obj, resource.soft_delete, utcnow())
            else:
                db.session.delete(obj)
            db.session.flush()
            db.session.commit()
            return Response(status=204)

    return blp


def require_if_match() -> None:
    if not request.if_match:
        abort(428, message="Send If-Match with the ETag you read.", errors={"If-Match": ["Missing header."]})


def check_etag(document: dict[str, Any]) -> None:
    if not request.if_match.contains(etag_of(document)) and not request.if_match.star_tag:
        abort(412, message="The object changed since you read it.", errors={"If-Match": ["Stale ETag."]})

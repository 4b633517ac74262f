"""Actions: a declared service function run from ``POST /<prefix>/<id>/<action>`` or an admin button.

Both paths go through :func:`run_action`, so the policy, the transaction and the audit record are the
same: the target row is locked, the function runs, and an append-only audit record (actor, action,
target, inputs, result, request id) is written in the same transaction. A refusal (403) or a failure
the service raises (409, 422...) rolls everything back and is recorded on its own as denied/failed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from app import audit
from app.extensions import db
from app.generator.access import Actor, call_service, load_for_change, require_principal
from app.generator.compiled import Compiled
from app.generator.declarations import Action
from app.generator.http import document, json_response, one_transaction, parse, snake
from app.generator.queries import etag_of

log = logging.getLogger(__name__)


class NoInputSchema(ma.Schema):
    """An action without inputs accepts an empty body or ``{}``."""

    class Meta:
        unknown = ma.RAISE


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _snapshot(compiled: Compiled, obj: Any) -> dict[str, Any]:
    return {attr: getattr(obj, attr) for attr in compiled.column_types}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before[k], after[k]] for k in before if before[k] != after[k]}


def _record(compiled: Compiled, action: Action, target_id: Any, actor: Actor, **fields: Any) -> None:
    audit.record(
        action=f"{compiled.domain}.{action.action_name}",
        target_type=compiled.key,
        target_id=target_id,
        actor_type=actor.type,
        actor_id=actor.id,
        **{k: _json_safe(v) if k in ("inputs", "result") else v for k, v in fields.items()},
    )


def record_refusal(
    compiled: Compiled, action: Action, target_id: Any, actor: Actor, inputs: Any, error: HTTPException
) -> None:
    """Denied (403) and failed (4xx/5xx from the service) calls leave a trail in their own transaction."""
    db.session.rollback()
    outcome = "denied" if error.code == 403 else "failed"
    detail = getattr(error, "data", {}).get("message") or error.description
    try:
        _record(
            compiled,
            action,
            target_id,
            actor,
            inputs=inputs,
            result={"status": error.code, "detail": detail},
            outcome=outcome,
        )
        db.session.commit()
    except Exception:  # the refusal itself must still reach the client
        db.session.rollback()
        log.exception("could not record refused action %s", action.action_name)


def run_action(compiled: Compiled, action: Action, obj: Any, inputs: dict[str, Any], actor: Actor) -> Any:
    """Call the service function on a loaded (locked) target and add the audit record; caller commits."""
    target_id = getattr(obj, compiled.pk)
    before = _snapshot(compiled, obj)
    result = call_service(action.func, **{action.target_param: target_id}, actor=actor, **inputs)
    db.session.flush()
    summary = {"changes": _changes(before, _snapshot(compiled, obj))}
    if isinstance(result, dict):
        summary["returned"] = result
    _record(compiled, action, target_id, actor, inputs=inputs, result=summary, outcome="ok")
    return result


def add_action_routes(blp: Blueprint, compiled: Compiled) -> None:
    model_name = compiled.model.__name__
    id_name = f"{snake(model_name)}_id"
    for action in compiled.resource.actions:
        _add_route(blp, compiled, action, id_name, model_name)


def _add_route(blp: Blueprint, compiled: Compiled, action: Action, id_name: str, model_name: str) -> None:
    input_cls = action.input or NoInputSchema
    input_schema = input_cls()
    output = action.output or compiled.schemas.output
    body_doc = (
        {"requestBody": {"required": True, "content": {"application/json": {"schema": input_cls}}}}
        if action.input
        else {}
    )

    @blp.route(f"/<uuid:{id_name}>/{action.action_name}", methods=["POST"], endpoint=f"action_{action.action_name}")
    @blp.response(200, output)
    @document(
        blp,
        summary=action.summary,
        auth=action.allow.requires_auth,
        errors=(400, 401, 403, 404, 409, 422),
        description=f"Action `{compiled.domain}.{action.action_name}` on a {model_name}; recorded in the audit log.",
        **body_doc,
    )
    @one_transaction
    def action_view(**path: Any) -> Response:
        principal = require_principal(action.allow)
        inputs = parse(input_schema, "json")
        actor = Actor.from_principal(principal)
        target_id = path[id_name]
        try:
            obj = load_for_change(compiled, target_id, action.allow, principal)
            result = run_action(compiled, action, obj, inputs, actor)
        except HTTPException as error:
            if error.code != 404:
                record_refusal(compiled, action, target_id, actor, inputs, error)
            raise
        if isinstance(result, compiled.model):
            body = compiled.dump_fn()(result)
            response = json_response(body)
            response.set_etag(etag_of(body))
        elif action.output is not None:
            response = json_response(action.output().dump(result))
        else:
            response = json_response(_json_safe(result))
        db.session.commit()
        return response

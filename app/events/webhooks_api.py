"""REST for integrators: ``/webhooks/endpoints`` (their own only) and replays of their deliveries.

Hand-written (small) until the generator can host platform resources; callers need the
``integrator`` role in their access token, since webhooks carry marketplace-wide events. An
endpoint of someone else is a 404. The secret is shown on creation and rotation only.
"""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from app.db import db
from app.events.webhook_models import WebhookDelivery, WebhookEndpoint
from app.events.webhook_service import EndpointError, create_endpoint, replay, rotate_secret, update_endpoint
from app.security import current_principal

__all__ = ["INTEGRATOR_ROLE", "blp"]

INTEGRATOR_ROLE = "integrator"
BEARER = [{"bearerAuth": []}]

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/webhooks",
    description="Integrator webhooks: register endpoints for event types; deliveries are signed "
    "(Bazaar-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>) and retried for 3 days.",
)


class EndpointSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=2048))
    event_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Event types ('offers.OfferAccepted'), a domain ('offers.*') or '*'"},
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    active = ma.fields.Boolean(dump_only=True)
    secret_hint = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = ma.fields.String(dump_only=True, metadata={"description": "Signing secret: shown only now"})


class EndpointPatchSchema(ma.Schema):
    url = ma.fields.String(validate=ma.validate.Length(min=8, max=2048))
    event_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=100)), validate=ma.validate.Length(min=1, max=100)
    )
    description = ma.fields.String(validate=ma.validate.Length(max=200))
    active = ma.fields.Boolean()


class SecretSchema(ma.Schema):
    secret = ma.fields.String(dump_only=True)


class DeliveryQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(["pending", "delivered", "failed"]))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


class DeliverySchema(ma.Schema):
    id = ma.fields.UUID()
    event_id = ma.fields.UUID()
    event_type = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    last_status_code = ma.fields.Integer(allow_none=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)


def _integrator() -> uuid.UUID:
    principal = current_principal()
    if not principal.is_authenticated:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    if not principal.has_role(INTEGRATOR_ROLE):
        abort(403, message="Webhooks need the integrator role.")
    assert principal.user_id is not None
    return principal.user_id


def _own_endpoint(endpoint_id: uuid.UUID, *, lock: bool = False) -> WebhookEndpoint:
    owner = _integrator()
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.owner_id == owner)
    endpoint = db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if endpoint is None:
        abort(404, message="No such webhook endpoint.")
    return endpoint


def _invalid(error: EndpointError) -> None:
    db.session.rollback()
    abort(422, message="The webhook endpoint is not valid.", errors=error.errors)


@blp.route("/endpoints", methods=["GET"])
@blp.response(200, EndpointSchema(many=True))
@blp.doc(security=BEARER)
def list_endpoints() -> list[WebhookEndpoint]:
    """Your endpoints, newest first."""
    owner = _integrator()
    query = select(WebhookEndpoint).where(WebhookEndpoint.owner_id == owner).order_by(WebhookEndpoint.created_at.desc())
    return list(db.session.execute(query).scalars())


@blp.route("/endpoints", methods=["POST"])
@blp.arguments(EndpointSchema)
@blp.response(201, EndpointCreatedSchema)
@blp.doc(security=BEARER)
def create(data: dict[str, Any]) -> WebhookEndpoint:
    """Register an endpoint; the response carries its signing secret (shown once)."""
    owner = _integrator()
    try:
        endpoint = create_endpoint(owner_id=owner, **data)
    except EndpointError as exc:
        _invalid(exc)
    db.session.commit()
    return endpoint


@blp.route("/endpoints/<uuid:endpoint_id>", methods=["GET"])
@blp.response(200, EndpointSchema)
@blp.doc(security=BEARER)
def get(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    return _own_endpoint(endpoint_id)


@blp.route("/endpoints/<uuid:endpoint_id>", methods=["PATCH"])
@blp.arguments(EndpointPatchSchema)
@blp.response(200, EndpointSchema)
@blp.doc(security=BEARER)
def patch(data: dict[str, Any], endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Change the URL, the event types, the description, or pause it (``active: false``)."""
    endpoint = _own_endpoint(endpoint_id, lock=True)
    try:
        update_endpoint(endpoint, data)
    except EndpointError as exc:
        _invalid(exc)
    db.session.commit()
    return endpoint


@blp.route("/endpoints/<uuid:endpoint_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=BEARER)
def delete(endpoint_id: uuid.UUID) -> None:
    """Remove the endpoint with its delivery log."""
    db.session.delete(_own_endpoint(endpoint_id, lock=True))
    db.session.commit()


@blp.route("/endpoints/<uuid:endpoint_id>/rotate-secret", methods=["POST"])
@blp.response(200, SecretSchema)
@blp.doc(security=BEARER)
def rotate(endpoint_id: uuid.UUID) -> dict[str, str]:
    """A new signing secret; the old one stops verifying at once."""
    secret = rotate_secret(_own_endpoint(endpoint_id, lock=True))
    db.session.commit()
    return {"secret": secret}


@blp.route("/endpoints/<uuid:endpoint_id>/deliveries", methods=["GET"])
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliverySchema(many=True))
@blp.doc(security=BEARER)
def deliveries(query: dict[str, Any], endpoint_id: uuid.UUID) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries (optionally of one status)."""
    endpoint = _own_endpoint(endpoint_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if "status" in query:
        statement = statement.where(WebhookDelivery.status == query["status"])
    statement = statement.order_by(WebhookDelivery.created_at.desc()).limit(query["limit"])
    return list(db.session.execute(statement).scalars())


@blp.route("/deliveries/<uuid:delivery_id>/replay", methods=["POST"])
@blp.response(202, DeliverySchema)
@blp.doc(security=BEARER)
def replay_delivery(delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send one of your deliveries again now (e.g. after fixing your receiver)."""
    owner = _integrator()
    delivery = db.session.execute(
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookDelivery.id == delivery_id, WebhookEndpoint.owner_id == owner)
        .with_for_update(of=WebhookDelivery)
    ).scalar_one_or_none()
    if delivery is None:
        abort(404, message="No such webhook delivery.")
    replay(delivery)
    db.session.commit()
    return delivery

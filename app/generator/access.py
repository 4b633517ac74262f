"""Applying a policy to a request: 401 before 404 before 403, and who the actor is.

A client who may not see a row gets a 404 (its existence is not disclosed); one who sees it but may
not change it gets a 403; an anonymous caller of an operation that needs a user gets a 401 before
any row is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_smorest import abort

from app.extensions import db
from app.generator.compiled import _COMPILED, Compiled
from app.generator.declarations import ServiceError
from app.generator.rules import Rule, as_sql
from app.security import Principal, current_principal

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who runs a service function: a marketplace user, a staff member (admin) or the system (jobs)."""

    type: str  # user | staff | system
    id: str | None
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_principal(cls, principal: Principal) -> Actor:
        return cls("user", str(principal.user_id), principal.roles)

    @classmethod
    def staff(cls, staff_id: Any) -> Actor:
        return cls("staff", str(staff_id))

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls("system", name)

    @property
    def user_id(self) -> uuid.UUID | None:
        return uuid.UUID(self.id) if self.type == "user" and self.id else None


def call_service(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Call domain code; its ServiceError becomes the problem response it describes."""
    try:
        return func(**kwargs)
    except ServiceError as error:
        abort(error.status, message=error.message, errors=error.errors or None)


def require_principal(rule: Rule) -> Principal:
    principal = current_principal()
    if rule.requires_auth and not principal.is_authenticated:
        abort(401, message="Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    return principal


def visibility(compiled: Compiled, rule: Rule, principal: Principal) -> list[Any]:
    """WHERE conditions selecting the rows ``principal`` may see under ``rule``.

    Anonymous callers all see the same rows: their conditions are built once per rule.
    """
    if not principal.is_authenticated:
        key = ("anonymous", id(rule))
        cached = compiled.conditions_cache.get(key)
        if cached is None:
            cached = compiled.conditions_cache[key] = _visibility(compiled, rule, principal)
        return list(cached)
    return _visibility(compiled, rule, principal)


def _visibility(compiled: Compiled, rule: Rule, principal: Principal) -> list[Any]:
    conditions = []
    soft = compiled.soft_delete_clause()
    if soft is not None:
        conditions.append(soft)
    clause = rule.clause(compiled.cols, principal)
    if clause is not True:
        conditions.append(as_sql(clause))
    return conditions


def load_for_change(compiled: Compiled, obj_id: uuid.UUID, rule: Rule, principal: Principal) -> Any:
    """The row locked for update, or 404 when invisible, 403 when visible but ``rule`` refuses."""
    model = compiled.model
    read = compiled.resource.policy.read
    stmt = (
        sa.select(model)
        .where(getattr(compiled.cols, compiled.pk) == obj_id, *visibility(compiled, read, principal))
        .with_for_update()
    )
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404, message=f"No such {compiled.model.__name__}.")
    if not rule.allows(principal, obj):
        abort(403, message=f"You may not do this to this {compiled.model.__name__}.")
    return obj


def check_references(compiled: Compiled, values: dict[str, Any], principal: Principal) -> None:
    """Foreign keys a client sets must name rows it can see: 422 naming the field, not a 409 or a leak."""
    mapper = sa.inspect(compiled.model)
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        prop = mapper.column_attrs.get(name)
        if prop is None or value is None:
            continue
        for fk in prop.columns[0].foreign_keys:
            target_table = fk.column.table
            target = next((c for c in _COMPILED.values() if c.table is target_table), None)
            conditions = [fk.column == value]
            if target is not None:
                conditions += visibility(target, target.resource.policy.read, principal)
            exists = db.session.execute(sa.select(sa.literal(1)).select_from(target_table).where(*conditions)).first()
            if exists is None:
                label = target.model.__name__ if target is not None else target_table.name
                errors[name] = [f"No such {label}."]
    if errors:
        abort(422, message="The request names objects that do not exist.", errors=errors)

"""Access rules: who may do something to which rows, usable as a SQL row filter and as an object check.

One rule answers three questions the same way everywhere (REST, admin, actions):
``clause`` - the SQL condition selecting the rows a principal may touch (``True``/``False`` for all/none);
``allows`` - whether a loaded (or about to be created) object passes;
``stamp`` - what the server writes on create (``OWNER`` makes the caller the owner).
Rules compose with ``|`` and ``&``; ``rule.where(status="published")`` narrows a rule to matching rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from app.security import Principal

STAFF_ROLE = "staff"

Clause = ColumnElement[bool] | bool


def _or(left: Clause, right: Clause) -> Clause:
    if left is True or right is True:
        return True
    if left is False:
        return right
    if right is False:
        return left
    return or_(left, right)


def _and(left: Clause, right: Clause) -> Clause:
    if left is False or right is False:
        return False
    if left is True:
        return right
    if right is True:
        return left
    return and_(left, right)


def as_sql(clause: Clause) -> ColumnElement[bool]:
    if clause is True:
        return true()
    if clause is False:
        return false()
    return clause


class Rule:
    """Base rule; subclasses override the three answers."""

    #: anonymous callers get a 401 before any row is read
    requires_auth: bool = False
    #: the staff admin may use the operation guarded by this rule
    admits_staff: bool = False

    def clause(self, model: type, principal: Principal) -> Clause:
        raise NotImplementedError

    def allows(self, principal: Principal, obj: Any) -> bool:
        raise NotImplementedError

    def stamp(self, obj: Any, principal: Principal) -> None:
        """Fill server-owned fields of a new object (no-op unless the rule owns one)."""

    def columns(self) -> tuple[str, ...]:
        """Model attributes the rule reads (validated against the model at registration)."""
        return ()

    def where(self, **conditions: Any) -> Rule:
        return All(self, Where(conditions))

    def __or__(self, other: Rule) -> Rule:
        return Any_(self, other)

    def __and__(self, other: Rule) -> Rule:
        return All(self, other)


@dataclass(frozen=True, eq=False)
class _Public(Rule):
    def clause(self, model: type, principal: Principal) -> Clause:
        return True

    def allows(self, principal: Principal, obj: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "PUBLIC"


@dataclass(frozen=True, eq=False)
class _Nobody(Rule):
    def clause(self, model: type, principal: Principal) -> Clause:
        return False

    def allows(self, principal: Principal, obj: Any) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOBODY"


@dataclass(frozen=True, eq=False)
class _Authenticated(Rule):
    requires_auth = True

    def clause(self, model: type, principal: Principal) -> Clause:
        return principal.is_authenticated

    def allows(self, principal: Principal, obj: Any) -> bool:
        return principal.is_authenticated

    def __repr__(self) -> str:
        return "AUTHENTICATED"


@dataclass(frozen=True, eq=False)
class HasRole(Rule):
    """Clients whose token carries ``role`` (``STAFF`` is ``HasRole("staff")``, also open to the admin)."""

    role: str
    requires_auth = True

    @property
    def admits_staff(self) -> bool:  # type: ignore[override]
        return self.role == STAFF_ROLE

    def clause(self, model: type, principal: Principal) -> Clause:
        return principal.has_role(self.role)

    def allows(self, principal: Principal, obj: Any) -> bool:
        return principal.has_role(self.role)

    def __repr__(self) -> str:
        return "STAFF" if self.role == STAFF_ROLE else f"HAS_ROLE({self.role!r})"


@dataclass(frozen=True, eq=False)
class Owner(Rule):
    """The caller's user id is in ``column``; on create the server writes it there."""

    column: str
    requires_auth = True

    def clause(self, model: type, principal: Principal) -> Clause:
        if not principal.is_authenticated:
            return False
        return getattr(model, self.column) == principal.user_id

    def allows(self, principal: Principal, obj: Any) -> bool:
        return principal.is_authenticated and getattr(obj, self.column) == principal.user_id

    def stamp(self, obj: Any, principal: Principal) -> None:
        if principal.is_authenticated and getattr(obj, self.column, None) is None:
            setattr(obj, self.column, principal.user_id)

    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def __repr__(self) -> str:
        return f"OWNER({self.column!r})"


@dataclass(frozen=True, eq=False)
class Participant(Rule):
    """The caller's user id is in any of ``columns`` (buyer or seller of an offer, members of a thread)."""

    participant_columns: tuple[str, ...]
    requires_auth = True

    def clause(self, model: type, principal: Principal) -> Clause:
        if not principal.is_authenticated:
            return False
        return or_(*(getattr(model, c) == principal.user_id for c in self.participant_columns))

    def allows(self, principal: Principal, obj: Any) -> bool:
        return principal.is_authenticated and any(
            getattr(obj, c) == principal.user_id for c in self.participant_columns
        )

    def columns(self) -> tuple[str, ...]:
        return self.participant_columns

    def __repr__(self) -> str:
        return f"PARTICIPANT{self.participant_columns!r}"


@dataclass(frozen=True, eq=False)
class Where(Rule):
    """Rows whose columns equal the given values (``None`` means IS NULL); combine with another rule."""

    conditions: Mapping[str, Any]

    def clause(self, model: type, principal: Principal) -> Clause:
        parts = []
        for name, value in self.conditions.items():
            column = getattr(model, name)
            parts.append(column.is_(None) if value is None else column == value)
        return and_(*parts) if parts else True

    def allows(self, principal: Principal, obj: Any) -> bool:
        return all(getattr(obj, name) == value for name, value in self.conditions.items())

    def columns(self) -> tuple[str, ...]:
        return tuple(self.conditions)

    def __repr__(self) -> str:
        return f"WHERE({dict(self.conditions)!r})"


@dataclass(frozen=True, eq=False)
class Any_(Rule):
    left: Rule
    right: Rule

    @property
    def requires_auth(self) -> bool:  # type: ignore[override]
        return self.left.requires_auth and self.right.requires_auth

    @property
    def admits_staff(self) -> bool:  # type: ignore[override]
        return self.left.admits_staff or self.right.admits_staff

    def clause(self, model: type, principal: Principal) -> Clause:
        return _or(self.left.clause(model, principal), self.right.clause(model, principal))

    def allows(self, principal: Principal, obj: Any) -> bool:
        return self.left.allows(principal, obj) or self.right.allows(principal, obj)

    def stamp(self, obj: Any, principal: Principal) -> None:
        self.left.stamp(obj, principal)
        self.right.stamp(obj, principal)

    def columns(self) -> tuple[str, ...]:
        return self.left.columns() + self.right.columns()

    def __repr__(self) -> str:
        return f"({self.left!r} | {self.right!r})"


@dataclass(frozen=True, eq=False)
class All(Rule):
    left: Rule
    right: Rule

    @property
    def requires_auth(self) -> bool:  # type: ignore[override]
        return self.left.requires_auth or self.right.requires_auth

    @property
    def admits_staff(self) -> bool:  # type: ignore[override]
        return self.left.admits_staff or self.right.admits_staff

    def clause(self, model: type, principal: Principal) -> Clause:
        return _and(self.left.clause(model, principal), self.right.clause(model, principal))

    def allows(self, principal: Principal, obj: Any) -> bool:
        return self.left.allows(principal, obj) and self.right.allows(principal, obj)

    def stamp(self, obj: Any, principal: Principal) -> None:
        self.left.stamp(obj, principal)
        self.right.stamp(obj, principal)

    def columns(self) -> tuple[str, ...]:
        return self.left.columns() + self.right.columns()

    def __repr__(self) -> str:
        return f"({self.left!r} & {self.right!r})"


PUBLIC: Rule = _Public()
NOBODY: Rule = _Nobody()
AUTHENTICATED: Rule = _Authenticated()
STAFF: Rule = HasRole(STAFF_ROLE)


def OWNER(column: str) -> Rule:
    return Owner(column)


def PARTICIPANT(*columns: str) -> Rule:
    if not columns:
        raise ValueError("PARTICIPANT needs at least one column")
    return Participant(tuple(columns))


def HAS_ROLE(role: str) -> Rule:
    return HasRole(role)


def WHERE(**conditions: Any) -> Rule:
    """Anyone, for rows matching ``conditions``: ``WHERE(status="published") | OWNER("seller_id")``."""
    return Where(conditions)

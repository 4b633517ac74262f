"""What a domain writes to get a REST resource, an admin view and actions for one model.

These are plain declarations (no Flask, no app): the generator compiles them when an app registers
the domain. See ``app/generator/__init__.py`` for an example.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from app.generator.hooks import ListHooks
from app.generator.rules import NOBODY, PUBLIC, Rule

OPERATORS: tuple[str, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "like", "ilike", "is_null")


class ServiceError(Exception):
    """A domain rule refused the operation; the API answers ``status`` with per-field ``errors``.

    Services raise it (they never import Flask), e.g. ``ServiceError("Only drafts can be published",
    status=409, errors={"status": ["..."]})``; generated endpoints and admin views translate it.
    """

    def __init__(self, message: str, *, status: int = 409, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = {k: list(v) for k, v in (errors or {}).items()}


@dataclass(frozen=True)
class Policy:
    """Who may do what to a model, for clients (REST) and staff (admin) alike.

    ``list`` defaults to ``read``: the row filter of list endpoints. An operation whose rule is
    ``NOBODY`` gets no endpoint at all. ``read_only`` fields are shown but never written by
    clients (a body carrying one is a 422); ``hidden`` fields never leave the server for clients;
    ``write_once`` fields are accepted on create and refused on update.
    """

    read: Rule = PUBLIC
    list: Rule | None = None
    create: Rule = NOBODY
    update: Rule = NOBODY
    delete: Rule = NOBODY
    read_only: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    write_once: tuple[str, ...] = ()

    @property
    def list_rule(self) -> Rule:
        return self.list if self.list is not None else self.read


@dataclass(frozen=True)
class Money:
    """Two columns shown to clients as one ``{amount, currency}`` object (DESIGN.md section 4)."""

    amount: str
    currency: str


@dataclass(frozen=True)
class Action:
    """A service function exposed as ``POST /<prefix>/<id>/<name>`` and as an admin button.

    The function is keyword-only: it receives the target id under ``target`` (default: its first
    keyword-only parameter), ``actor=`` (:class:`~app.generator.actions.Actor`) and the fields of
    ``input``. It returns the target object (shown with the resource's schema) or a JSON-able dict.
    """

    func: Callable[..., Any]
    allow: Rule
    input: type[ma.Schema] | None = None
    #: schema of what the function returns when it is not the target object
    output: type[ma.Schema] | None = None
    name: str | None = None
    target: str | None = None
    description: str | None = None
    #: admin: ask for confirmation before running (actions with inputs always show a form)
    confirm: str | None = None

    @property
    def action_name(self) -> str:
        return self.name or self.func.__name__

    @property
    def target_param(self) -> str:
        if self.target:
            return self.target
        for param in inspect.signature(self.func).parameters.values():
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                return param.name
        raise TypeError(f"action {self.action_name}: the service function must take keyword-only arguments")

    @property
    def summary(self) -> str:
        doc = self.description or inspect.getdoc(self.func) or self.action_name.replace("_", " ").capitalize()
        return doc.strip().splitlines()[0]


@dataclass(frozen=True)
class AdminOptions:
    """Staff admin view settings; every field has a sensible generated default."""

    list_columns: Sequence[str] | None = None
    search_columns: Sequence[str] | None = None
    show_columns: Sequence[str] | None = None
    #: child resources (by model) listed on the show page through their foreign key
    related: Sequence[type] = ()
    label: str | None = None
    enabled: bool = True
    #: buttons on the show page, ``(label, URL)`` with ``{column}`` placeholders filled from the row:
    #: how staff follow plain-id references into other domains' views (no import crosses the seam)
    links: Sequence[tuple[str, str]] = ()
    #: columns shown as links in lists and show pages, ``{column: URL with {value}}`` (a referenced row)
    column_links: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Resource:
    """One model declared once: REST resource + admin view + policy + actions.

    ``filters`` maps a field (a column, or a :class:`Money` name for its amount) to the operators
    clients may use; ``sort`` lists sortable non-null columns and ``default_sort`` the order of a
    plain list (``-created_at``); ``embed`` names to-one relationships clients may inline
    (``embed=category``), each to a model declared as a resource too; ``search`` turns ``q`` into a
    SQL condition; ``soft_delete`` names a timestamp column set by DELETE instead of removing the row.
    ``on_create(*, obj, actor)`` / ``on_update(*, obj, actor, changes)`` run domain validation and
    derivations before the write (raise ``ServiceError(..., status=422, errors=...)``); the admin calls them too.
    ``scopes`` are named row filters relative to the caller, picked with a query parameter of the list
    (``{"role": {"buyer": OWNER("buyer_id"), "seller": OWNER("seller_id")}}`` gives ``?role=buyer``).
    ``detail(obj_id=, principal=)`` adds domain-computed keys to the item response (``GET /<id>``), e.g.
    an offer's negotiation history, documented by ``detail_schema`` and covered by the ETag.
    """

    model: type
    policy: Policy = field(default_factory=Policy)
    path: str | None = None
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sort: Sequence[str] = ()
    default_sort: str | None = None
    embed: Sequence[str] = ()
    search: Callable[[type, str], Any] | None = None
    #: extra list parameters, conditions, computed sorts and page keys (see app.generator.hooks)
    list_hooks: ListHooks | None = None
    soft_delete: str | None = None
    money: Mapping[str, Money] = field(default_factory=dict)
    fields: Mapping[str, ma.fields.Field] = field(default_factory=dict)
    actions: Sequence[Action] = ()
    on_create: Callable[..., None] | None = None
    on_update: Callable[..., None] | None = None
    scopes: Mapping[str, Mapping[str, Rule]] = field(default_factory=dict)
    detail: Callable[..., dict[str, Any]] | None = None
    detail_schema: type[ma.Schema] | None = None
    max_limit: int = 100
    default_limit: int = 20
    allow_count: bool = True
    admin: AdminOptions = field(default_factory=AdminOptions)
    description: str | None = None

    def __post_init__(self) -> None:
        for name, ops in self.filters.items():
            unknown = set(ops) - set(OPERATORS)
            if unknown:
                raise ValueError(f"{self.model.__name__}.{name}: unknown filter operators {sorted(unknown)}")
        if not 1 <= self.default_limit <= self.max_limit:
            raise ValueError(f"{self.model.__name__}: default_limit must be within 1..max_limit")

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def url_path(self) -> str:
        path = self.path if self.path is not None else "/" + self.model.__tablename__.replace("_", "-")
        return path.rstrip("/")

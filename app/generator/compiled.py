"""A Resource compiled once (schemas, dumper, filters, embeds) and shared by every app in the process.

Everything here is derived from the declaration and the model only; per-app pieces (blueprints,
admin views, cursor keys) are built at registration from this object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from app.generator.declarations import Resource
from app.generator.filtering import FilterParam, filter_params, query_fields, sort_choices, sparse_fields
from app.generator.schemas import ResourceSchemas, build_schemas, relationship_of
from app.generator.serialize import Dumper

# Schema names already used in the OpenAPI document, so two domains' models never collide.
_SCHEMA_NAMES: dict[str, type] = {}
_COMPILED: dict[type, Compiled] = {}


@dataclass(frozen=True)
class Embed:
    name: str
    local_column: str  # e.g. category_id on Listing
    target: Compiled


@dataclass
class Compiled:
    resource: Resource
    domain: str
    schema_name: str
    schemas: ResourceSchemas
    filters: list[FilterParam]
    list_args: type[ma.Schema]
    get_args: type[ma.Schema]
    page: type[ma.Schema]
    embeds: dict[str, Embed]
    output_names: list[str]
    pk: str
    table: sa.Table
    column_types: dict[str, sa.types.TypeEngine]
    _dumpers: dict[Any, Callable[[Any], dict[str, Any]]] = field(default_factory=dict)
    _select_cache: dict[tuple[str, ...], Any] = field(default_factory=dict)
    conditions_cache: dict[Any, list[Any]] = field(default_factory=dict)

    @property
    def model(self) -> type:
        return self.resource.model

    @property
    def key(self) -> str:
        """``listings.Listing``: the audit target type and the cursor salt."""
        return f"{self.domain}.{self.model.__name__}"

    @functools.cached_property
    def output_schema(self) -> ma.Schema:
        return self.schemas.output()

    @functools.cached_property
    def dumper(self) -> Dumper:
        return Dumper(self.output_schema, self.output_names)

    def dump_fn(
        self, names: Sequence[str] | None = None, attrs: tuple[str, ...] | None = None
    ) -> Callable[[Any], dict[str, Any]]:
        """Cached compiled dumper for a set of fields (all when ``names`` is None).

        ``attrs`` is the column order of the rows it will read (a select of :meth:`select_columns`):
        the dumper then reads by position.
        """
        fields = frozenset(names) if names else frozenset(self.output_names)
        key = (fields, attrs)
        fn = self._dumpers.get(key)
        if fn is None:
            index = {attr: position for position, attr in enumerate(attrs)} if attrs is not None else None
            fn = self._dumpers[key] = self.dumper.compile(list(fields), index)
        return fn

    def attrs_for(self, names: Sequence[str]) -> list[str]:
        attrs_of = self.schemas.plan.attrs_of
        needed: list[str] = []
        for name in names:
            for attr in attrs_of[name]:
                if attr not in needed:
                    needed.append(attr)
        return needed

    def select_of(self, attrs: tuple[str, ...]) -> sa.Select[Any]:
        """``SELECT <attrs> FROM <table>``, built once per set of columns (requests add WHERE/ORDER/LIMIT)."""
        cached = self._select_cache.get(attrs)
        if cached is None:
            cached = self._select_cache[attrs] = sa.select(*(self.column(a).label(a) for a in attrs))
        return cached

    def column(self, attr: str) -> sa.Column:
        return self.table.c[sa.inspect(self.model).columns[attr].name]

    @functools.cached_property
    def cols(self) -> SimpleNamespace:
        """Table columns by attribute name: rules and filters build plain Core SQL (no ORM compile step)."""
        mapper = sa.inspect(self.model)
        return SimpleNamespace(**{prop.key: self.table.c[prop.columns[0].name] for prop in mapper.column_attrs})

    def soft_delete_clause(self) -> Any:
        column = self.resource.soft_delete
        return getattr(self.cols, column).is_(None) if column else None


def _unique_schema_name(domain: str, model: type) -> str:
    name = model.__name__
    owner = _SCHEMA_NAMES.get(name)
    if owner is not None and owner is not model:
        name = domain.title().replace("_", "") + name
    _SCHEMA_NAMES[name] = model
    return name


def compile_resource(domain: str, resource: Resource) -> Compiled:
    cached = _COMPILED.get(resource.model)
    if cached is not None and cached.resource is resource:
        return cached
    model = resource.model
    embeds: dict[str, Embed] = {}
    for rel_name in resource.embed:
        rel = relationship_of(model, rel_name)
        target = _COMPILED.get(rel.mapper.class_)
        if target is None:
            raise ValueError(f"{model.__name__}.{rel_name}: declare {rel.mapper.class_.__name__} as a resource first")
        (local,) = [local.key for local, _remote in rel.local_remote_pairs]
        embeds[rel_name] = Embed(name=rel_name, local_column=local, target=target)
    schema_name = _unique_schema_name(domain, model)
    schemas = build_schemas(resource, schema_name, {n: e.target.schemas.output for n, e in embeds.items()})
    output_names = list(schemas.plan.output)
    filters, filter_fields = filter_params(resource)
    sort_choices(resource)
    list_args = ma.Schema.from_dict(
        query_fields(resource, output_names=output_names, embeds=list(embeds), filters=filter_fields),
        name=f"{schema_name}QueryArgsSchema",
    )
    get_args = ma.Schema.from_dict(sparse_fields(output_names, list(embeds)), name=f"{schema_name}GetArgsSchema")
    page = ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(schemas.output), required=True),
            "links": ma.fields.Nested(PageLinksSchema, required=True),
            "total": ma.fields.Integer(metadata={"description": "Matching rows (only with count=true)"}),
        },
        name=f"{schema_name}PageSchema",
    )
    mapper = sa.inspect(model)
    compiled = Compiled(
        resource=resource,
        domain=domain,
        schema_name=schema_name,
        schemas=schemas,
        filters=filters,
        list_args=list_args,
        get_args=get_args,
        page=page,
        embeds=embeds,
        output_names=output_names,
        pk=mapper.primary_key[0].key,
        table=mapper.local_table,
        column_types={prop.key: prop.columns[0].type for prop in mapper.column_attrs},
    )
    _COMPILED[model] = compiled
    return compiled


class PageLinksSchema(ma.Schema):
    """Links to the neighbouring pages (null at either end)."""

    next = ma.fields.String(allow_none=True, required=True)
    prev = ma.fields.String(allow_none=True, required=True)

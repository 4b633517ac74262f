"""The event catalog, generated from code: ``/docs/events`` (HTML) and ``/docs/events.json``.

Every declared event type and version with its payload's JSON Schema, the envelope, the webhook
signature scheme, and who subscribes. Nothing is written by hand, so the page cannot drift.
"""

from __future__ import annotations

import inspect
from typing import Any

from flask import Blueprint, Response, jsonify, render_template_string

from app.events.catalog import iter_event_classes, payload_schema
from app.events.subscribers import all_subscribers

__all__ = ["bp", "catalog", "catalog_markdown"]

bp = Blueprint("event_docs", __name__)

ENVELOPE = {
    "id": {"type": "string", "format": "uuid", "description": "Unique per event; the idempotency key"},
    "type": {"type": "string", "description": "'<domain>.<EventName>'"},
    "version": {"type": "integer", "description": "Payload version; bumped on incompatible changes"},
    "occurred_at": {"type": "string", "format": "date-time"},
    "actor": {"type": "string", "description": "'user:<id>', 'staff:<id>' or 'system'"},
    "aggregate_id": {"type": "string", "description": "What changed; events of one aggregate keep commit order"},
    "data": {"type": "object", "description": "The payload below"},
}
SIGNATURE = (
    "Webhook deliveries are POSTs of the envelope as JSON with the header "
    "`Bazaar-Signature: t=<unix seconds>,v1=<hex>`, where v1 = HMAC-SHA256(secret, f'{t}.{raw body}'). "
    "Verify over the raw body in constant time and refuse t older than 5 minutes. "
    "Retries back off exponentially for up to 3 days; answer 2xx within 10 s. "
    "Delivery is at least once (deduplicate on `id`). First attempts leave in commit order per "
    "aggregate, but a retried delivery can arrive after later ones: order by `occurred_at`."
)


def catalog(*, include_subscribers: bool = False) -> dict[str, Any]:
    """The catalog; subscriber names (internal module paths) only for the developers' CLI, not the web."""
    subscribers = all_subscribers() if include_subscribers else []
    events = []
    for cls in iter_event_classes():
        doc = inspect.getdoc(cls) or ""
        if doc.startswith(cls.__name__ + "("):
            doc = ""  # the dataclass-generated signature is not documentation
        events.append(
            {
                "type": cls.type,
                "version": cls.version,
                "domain": cls.type.split(".", 1)[0],
                "description": doc,
                "module": cls.__module__,
                "payload": payload_schema(cls),
                "webhooks": not cls.internal,
                "personal": sorted(cls.personal),
                "subscribers": [s.name for s in subscribers if s.wants(cls.type)],
            }
        )
    return {"envelope": {"type": "object", "properties": ENVELOPE}, "signature": SIGNATURE, "events": events}


def catalog_markdown() -> str:
    """The same catalog as Markdown (``bazaar events catalog``), for docs outside the app."""
    data = catalog(include_subscribers=True)
    lines = ["# Bazaar event catalog", "", "Generated from code by `bazaar events catalog`.", "", data["signature"], ""]
    lines += ["## Envelope", "", "| field | type | meaning |", "|---|---|---|"]
    lines += [f"| `{k}` | {v.get('format', v['type'])} | {v.get('description', '')} |" for k, v in ENVELOPE.items()]
    for event in data["events"]:
        lines += ["", f"## {event['type']} v{event['version']}", ""]
        if event["description"]:
            lines += [event["description"], ""]
        if not event["webhooks"]:
            lines += ["Internal: carries a secret, never sent to webhooks.", ""]
        elif event["personal"]:
            fields = ", ".join(f"`{name}`" for name in event["personal"])
            lines += [f"Personal data, left out of webhook bodies: {fields}.", ""]
        lines += ["| field | schema | required |", "|---|---|---|"]
        required = set(event["payload"]["required"])
        for name, schema in event["payload"]["properties"].items():
            lines.append(f"| `{name}` | `{_short(schema)}` | {'yes' if name in required else 'no'} |")
        if event["subscribers"]:
            lines += ["", "Subscribers: " + ", ".join(f"`{s}`" for s in event["subscribers"])]
    return "\n".join(lines) + "\n"


def _short(schema: dict[str, Any]) -> str:
    text = schema.get("format") or schema.get("type") or ("enum" if "enum" in schema else "any")
    if schema.get("type") == "array":
        text = f"array<{_short(schema.get('items', {}))}>"
    if "anyOf" in schema:
        text = " | ".join(_short(s) for s in schema["anyOf"])
    return text + (" | null" if schema.get("nullable") else "")


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bazaar events</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
code,pre{background:#f4f4f4;padding:0 .2rem}table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}h2{margin-top:2rem}</style></head><body>
<h1>Bazaar event catalog</h1><p>Generated from the code of this deployment. JSON:
<a href="events.json">events.json</a>. Webhooks: <a href="/docs#/webhooks">/webhooks</a>.</p>
<p>{{ data.signature }}</p>
<h2>Envelope</h2><table><tr><th>field</th><th>type</th><th>meaning</th></tr>
{% for name, f in envelope %}<tr><td><code>{{ name }}</code></td><td>{{ f.format or f.type }}</td>
<td>{{ f.description }}</td></tr>{% endfor %}</table>
{% for e in data.events %}<h2 id="{{ e.type }}-v{{ e.version }}">{{ e.type }} <small>v{{ e.version }}</small></h2>
{% if e.description %}<p>{{ e.description }}</p>{% endif %}
{% if not e.webhooks %}<p>Internal: carries a secret, never sent to webhooks.</p>
{% elif e.personal %}<p>Personal data, left out of webhook bodies:
{% for name in e.personal %}<code>{{ name }}</code> {% endfor %}</p>{% endif %}
<table><tr><th>field</th><th>schema</th><th>required</th></tr>
{% for name, s in e.payload.properties.items() %}<tr><td><code>{{ name }}</code></td>
<td><code>{{ short(s) }}</code></td><td>{{ "yes" if name in e.payload.required else "no" }}</td></tr>
{% endfor %}</table>
{% if e.subscribers %}<p>Subscribers: {% for s in e.subscribers %}<code>{{ s }}</code> {% endfor %}</p>{% endif %}
{% else %}<p>No events are declared yet.</p>{% endfor %}</body></html>"""


@bp.get("/docs/events")
def events_page() -> str:
    data = catalog()
    return render_template_string(PAGE, data=data, envelope=list(ENVELOPE.items()), short=_short)


@bp.get("/docs/events.json")
def events_json() -> Response:
    return jsonify(catalog())

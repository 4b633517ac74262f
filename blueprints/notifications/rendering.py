"""Templates: one Jinja2 file per kind per locale (``templates/<locale>/<kind>.j2``), one block per channel.

Blocks: ``subject`` (email), ``title`` and ``body`` (in-app and push), ``sms``, ``text`` and ``html``
(the email's plain-text and HTML parts, wrapped in the locale's ``_email.txt.j2`` / ``_email.html.j2``
with the unsubscribe footer). Missing blocks fall back (sms <- title + body, text <- body,
subject <- title). The HTML part is rendered by an autoescaping environment, every other part by a
plain one, so "Tom & Jerry" stays readable in an SMS and cannot inject markup into an email.
A user's locale falls back region -> language -> ``en`` (``pt-BR`` -> ``pt_BR``, ``pt``, ``en``).
Digest kinds get ``items`` (the folded notifications' contexts); every kind gets it (one item or more).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, Template, TemplateNotFound
from markupsafe import Markup, escape

from blueprints.notifications.catalog import Kind

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_LOCALE = "en"
BLOCKS = ("subject", "title", "body", "sms", "text", "html")
# ISO 4217 exponents that are not 2 (the rest use cents).
_EXPONENTS = {"BHD": 3, "CLP": 0, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "OMR": 3, "TND": 3, "VND": 0}


def money(amount: Any, currency: str = "") -> str:
    """Integer minor units as a decimal amount with its currency code: 4500, "EUR" -> "45.00 EUR"."""
    try:
        minor = int(amount)
    except (TypeError, ValueError):
        return ""
    exponent = _EXPONENTS.get((currency or "").upper(), 2)
    value = minor / (10**exponent) if exponent else minor
    return f"{value:,.{exponent}f} {currency}".strip()


def when(value: Any, time_zone: str = "UTC") -> str:
    """An ISO timestamp shown in the reader's time zone: "2026-11-28 11:00 (Europe/Paris)"."""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        zone = ZoneInfo(time_zone or "UTC")
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        return str(value or "")
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


@functools.cache
def _env(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=autoescape,  # noqa: S701 - False only for text/SMS parts; HTML uses the escaping env
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = money
    env.filters["when"] = when
    return env


def locale_chain(locale: str | None) -> list[str]:
    """Template directories to try for ``locale``, most specific first, always ending with ``en``."""
    chain: list[str] = []
    raw = (locale or "").replace("-", "_").strip()
    if raw:
        language, _, region = raw.partition("_")
        if region:
            chain.append(f"{language.lower()}_{region.upper()}")
        chain.append(language.lower())
    chain.append(DEFAULT_LOCALE)
    return list(dict.fromkeys(chain))


def available_locales() -> list[str]:
    return sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir() and not p.name.startswith("_"))


def _template(env: Environment, name: str, locale: str | None) -> Template:
    for candidate in locale_chain(locale):
        try:
            return env.get_template(f"{candidate}/{name}")
        except TemplateNotFound:
            continue
    raise TemplateNotFound(f"{DEFAULT_LOCALE}/{name}")


def _block(template: Template, name: str, context: Mapping[str, Any]) -> str | None:
    block = template.blocks.get(name)
    if block is None:
        return None
    return "".join(block(template.new_context(dict(context)))).strip()


@dataclass(frozen=True)
class Rendered:
    subject: str
    title: str
    body: str
    sms: str
    text: str
    html: str


def template_context(kind: Kind, context: Mapping[str, Any], items: list[Mapping[str, Any]] | None = None) -> dict:
    base = dict(context)
    base.setdefault("items", items or [dict(context)])
    base["count"] = len(base["items"])
    base["kind"] = kind.name
    return base


def render(
    kind: Kind,
    context: Mapping[str, Any],
    *,
    locale: str | None = None,
    items: list[Mapping[str, Any]] | None = None,
    email_extras: Mapping[str, Any] | None = None,
) -> Rendered:
    """Every channel's text of ``kind`` for ``context`` in ``locale`` (email parts wrapped in the layout)."""
    values = template_context(kind, context, items)
    plain = _template(_env(False), f"{kind.name}.j2", locale)
    title = _block(plain, "title", values) or kind.description
    body = _block(plain, "body", values) or ""
    sms = _block(plain, "sms", values) or f"{title}: {body}"
    text = _block(plain, "text", values) or body
    subject = _block(plain, "subject", values) or title
    html_template = _template(_env(True), f"{kind.name}.j2", locale)
    html = _block(html_template, "html", values)
    if html is not None:
        content = Markup(html)  # noqa: S704 - rendered by the autoescaping environment
    else:
        content = Markup("<p>") + escape(text).replace("\n", Markup("<br>\n")) + Markup("</p>")
    layout_values = {**values, **(email_extras or {}), "title": title, "subject": subject}
    text_part = _template(_env(False), "_email.txt.j2", locale).render(**layout_values, content=text)
    html_part = _template(_env(True), "_email.html.j2", locale).render(**layout_values, content=content)
    return Rendered(subject=subject, title=title, body=body, sms=sms, text=text_part.strip() + "\n", html=html_part)


def render_in_app(kind: Kind, context: Mapping[str, Any], *, locale: str | None = None) -> tuple[str, str]:
    """Just the title and body (the bell and live pushes): cheaper than :func:`render`."""
    values = template_context(kind, context)
    plain = _template(_env(False), f"{kind.name}.j2", locale)
    return (_block(plain, "title", values) or kind.description), (_block(plain, "body", values) or "")


def render_sms(kind: Kind, context: Mapping[str, Any], *, locale: str | None = None) -> str:
    values = template_context(kind, context)
    plain = _template(_env(False), f"{kind.name}.j2", locale)
    sms = _block(plain, "sms", values)
    if sms:
        return sms
    title = _block(plain, "title", values) or kind.description
    return f"{title}: {_block(plain, 'body', values) or ''}"

"""The ledger of one payment for staff: every journal entry with its lines, and whether it balances.

The generated journal list shows entries without their lines; a trust-and-safety agent checking a
payment needs where each amount went (buyer, escrow, seller, fees) and that each entry sums to zero.
Reached from the payment's page ("Ledger: journal entries").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, g, redirect, render_template_string, url_for
from flask_appbuilder import AppBuilder, BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.extensions import db
from blueprints.payments.models import JournalEntry, JournalLine, LedgerAccount, Payment

TEMPLATE = """{% extends "appbuilder/base.html" %}
{% block content %}
<div class="container-fluid bz-ledger">
  <h2>Ledger of payment <code>{{ payment.id }}</code></h2>
  <p>
    <a class="btn btn-sm btn-default" href="{{ url_for(payment_view + '.show', pk=payment.id) }}">
      <i class="fa fa-arrow-left"></i> Back to the payment</a>
    State <strong>{{ payment.state }}</strong> &middot; price {{ payment.amount }} + buyer fee {{ payment.buyer_fee }}
    = <strong>{{ payment.amount_total }} {{ payment.currency }}</strong> (minor units)
  </p>
  {% if not entries %}<p class="text-muted">No journal entries for this payment yet.</p>{% endif %}
  {% for entry in entries %}
  <div class="panel panel-default bz-entry" data-kind="{{ entry.kind }}">
    <div class="panel-heading">
      <strong>{{ entry.kind }}</strong> &middot; {{ entry.posted_at.strftime('%Y-%m-%d %H:%M:%S UTC') }}
      &middot; <code>{{ entry.reference }}</code>{% if entry.memo %} &middot; {{ entry.memo }}{% endif %}
    </div>
    <table class="table table-condensed">
      <tr><th>Account</th><th>Owner</th><th>Currency</th><th class="text-right">Amount</th></tr>
      {% for line in entry.lines %}
      <tr class="bz-line"><td>{{ line.account_kind }}</td><td><code>{{ line.owner_id or 'platform' }}</code></td>
          <td>{{ line.currency }}</td><td class="text-right bz-amount">{{ line.amount }}</td></tr>
      {% endfor %}
      <tr class="{{ 'success' if entry.balanced else 'danger' }}">
        <th colspan="3">Sum</th>
        <th class="text-right bz-sum">{{ entry.total }} {{ 'balanced' if entry.balanced else 'UNBALANCED' }}</th>
      </tr>
    </table>
  </div>
  {% endfor %}
</div>
{% endblock %}"""


@dataclass(frozen=True)
class LedgerLine:
    account_kind: str
    owner_id: uuid.UUID | None
    currency: str
    amount: int


@dataclass(frozen=True)
class LedgerEntry:
    kind: str
    reference: str
    memo: str
    posted_at: object
    lines: list[LedgerLine]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def balanced(self) -> bool:
        per_currency: dict[str, int] = {}
        for line in self.lines:
            per_currency[line.currency] = per_currency.get(line.currency, 0) + line.amount
        return all(total == 0 for total in per_currency.values())


def payment_ledger(payment_id: uuid.UUID) -> list[LedgerEntry]:
    """The journal entries of a payment in posting order, with their lines (two queries)."""
    entries = db.session.execute(
        sa.select(JournalEntry)
        .where(JournalEntry.payment_id == payment_id)
        .order_by(JournalEntry.posted_at, JournalEntry.reference)
    ).scalars()
    entries = list(entries)
    rows = db.session.execute(
        sa.select(
            JournalLine.entry_id, LedgerAccount.kind, LedgerAccount.owner_id, JournalLine.currency, JournalLine.amount
        )
        .join(LedgerAccount, LedgerAccount.id == JournalLine.account_id)
        .where(JournalLine.entry_id.in_([entry.id for entry in entries]))
        .order_by(JournalLine.amount)
    ).all()
    lines: dict[uuid.UUID, list[LedgerLine]] = {}
    for entry_id, kind, owner_id, currency, amount in rows:
        lines.setdefault(entry_id, []).append(LedgerLine(kind, owner_id, currency, amount))
    return [LedgerEntry(e.kind, e.reference, e.memo, e.posted_at, lines.get(e.id, [])) for e in entries]


class PaymentLedgerView(BaseView):
    """``/admin/payments/payment-ledger/<payment id>``: read-only, like the payment's own page."""

    route_base = "/payments/payment-ledger"
    default_view = "show"
    # TrustSafety may read every "show" page: this one is a page of the payment.
    method_permission_name = {"show": "show"}

    @expose("/<uuid:payment_id>")
    @has_access
    def show(self, payment_id: uuid.UUID):  # type: ignore[no-untyped-def]
        if not g.user or not g.user.is_authenticated:
            return redirect(url_for(self.appbuilder.sm.auth_view.endpoint + ".login"))
        payment = db.session.get(Payment, payment_id)
        if payment is None:
            abort(404)
        return render_template_string(
            TEMPLATE,
            payment=payment,
            entries=payment_ledger(payment_id),
            payment_view="PaymentsPaymentAdmin",
            appbuilder=self.appbuilder,
            base_template=self.appbuilder.base_template,
        )


def register_admin(appbuilder: AppBuilder) -> None:
    # No menu entry: a ledger belongs to one payment and is reached from that payment's page.
    appbuilder.add_view_no_menu(PaymentLedgerView)

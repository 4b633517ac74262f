"""Seller payouts: a seller's payable balance leaves as one provider transfer per batch.

Crash safety, in order: :func:`open_payout` writes the payout row and moves the money from payable
to in-transit, and the caller commits; only then :func:`send_payout` calls the provider, with an
idempotency key fixed per payout (``Payout.transfer_key``). A worker killed after the transfer but
before its commit leaves the payout pending; the rerun sends the same key and the provider answers
with the transfer it already made, so money never leaves twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select

from app.audit import record
from app.db import db, utcnow
from app.events import publish
from blueprints.payments import ledger
from blueprints.payments.errors import PaymentNotFound, WrongState
from blueprints.payments.events import PayoutFailed, PayoutSent
from blueprints.payments.holds import payout_reserve, seller_on_hold
from blueprints.payments.ledger.models import AccountKind, LedgerAccount
from blueprints.payments.models import Hold, Payout, SellerAccount
from blueprints.payments.providers import get_provider
from blueprints.payments.providers.base import ProviderError
from blueprints.payments.states import PayoutState, move, parse_actor, record_creation
from blueprints.payments.timers import arm_payout_retry

S = PayoutState
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s... capped at an hour: the wait before a payout's next transfer attempt."""
    return min(timedelta(seconds=10 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def ensure_seller_account(
    *, seller_id: uuid.UUID, actor: str, email: str | None = None, country: str = "US"
) -> SellerAccount:
    """The seller's connected account at the provider, created once (idempotent per seller)."""
    account = db.session.get(SellerAccount, seller_id, with_for_update=True)
    if account is not None:
        return account
    provider = get_provider()
    created = provider.create_account(
        seller_id=str(seller_id), email=email, country=country, idempotency_key=f"acct-{seller_id}"
    )
    account = SellerAccount(
        seller_id=seller_id,
        provider=provider.name,
        provider_account_id=created.id,
        payouts_enabled=created.payouts_enabled,
        onboarding_url=created.onboarding_url,
    )
    db.session.add(account)
    actor_type, actor_id = parse_actor(actor)
    record(
        action="payments.create_seller_account",
        target_type="payments.SellerAccount",
        target_id=seller_id,
        actor_type=actor_type,
        actor_id=actor_id,
        result={"provider_account_id": created.id},
    )
    return account


def payable_sellers(minimum: int, limit: int = 1000) -> list[tuple[uuid.UUID, str]]:
    """(seller, currency) pairs with at least ``minimum`` payable and no seller hold."""
    held = exists().where(Hold.seller_id == LedgerAccount.owner_id, Hold.lifted_at.is_(None))
    query = (
        select(LedgerAccount.owner_id, LedgerAccount.currency)
        .where(LedgerAccount.kind == AccountKind.SELLER_PAYABLE, LedgerAccount.balance >= minimum, ~held)
        .order_by(LedgerAccount.owner_id)
        .limit(limit)
    )
    return [(owner, currency) for owner, currency in db.session.execute(query) if owner is not None]


def open_payout(*, seller_id: uuid.UUID, currency: str, actor: str = "system") -> Payout | None:
    """Move what a seller may be paid into transit and write the payout; None when nothing is due."""
    minimum = current_app.config["PAYMENTS_PAYOUT_MINIMUM"]
    account = db.session.get(SellerAccount, seller_id)
    if account is None and get_provider().name == "sandbox":
        account = ensure_seller_account(seller_id=seller_id, actor="system")
    if account is None or not account.payouts_enabled or seller_on_hold(seller_id):
        return None
    payable = ledger.payable(seller_id, currency)
    balance = ledger.posting.lock_accounts([payable])[payable][1]
    amount = balance - payout_reserve(seller_id, currency)
    if amount < max(minimum, 1):
        return None
    payout = Payout(
        id=uuid.uuid4(),
        seller_id=seller_id,
        currency=currency,
        amount=amount,
        state=S.PENDING,
        state_changed_at=utcnow(),
        provider=account.provider,
        destination=account.provider_account_id,
        generation=1,
        attempts=0,
        reversed_amount=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(payout)
    _move_money(payout, "start", payable, ledger.in_transit(seller_id, currency))
    record_creation(payout, "payout", actor=actor, reason=f"payout of {amount} {currency}")
    return payout


def _move_money(payout: Payout, step: str, source: ledger.AccountRef, target: ledger.AccountRef) -> None:
    ledger.post(
        kind=f"payout_{step}",
        reference=f"payout:{payout.id}:{payout.generation}:{step}",
        payout_id=payout.id,
        lines=[(source, -payout.amount), (target, payout.amount)],
    )


def send_payout(*, payout_id: uuid.UUID) -> Payout:
    """Make (or re-make, same key) the provider transfer of a pending payout."""
    payout = db.session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    if payout is None:
        raise PaymentNotFound("no such payout")
    if payout.state != S.PENDING:
        return payout
    seller, currency = payout.seller_id, payout.currency
    payable, transit = ledger.payable(seller, currency), ledger.in_transit(seller, currency)
    if seller_on_hold(seller) or payout_reserve(seller, currency) > ledger.balance(payable):
        # A hold or a seller-funded refund arrived after the payout was opened: that money must not leave.
        _move_money(payout, "returned", transit, payable)
        move(payout, "payout", S.CANCELED, actor="system", reason="funds held or being refunded before the transfer")
        return payout
    payout.attempts += 1
    try:
        transfer = get_provider().transfer(
            amount=payout.amount,
            currency=currency,
            destination=payout.destination,
            idempotency_key=payout.transfer_key,
            transfer_group=f"payout-{payout.id}",
            metadata={"payout_id": str(payout.id), "seller_id": str(seller)},
        )
    except ProviderError as exc:
        payout.last_error = f"{exc.code}: {exc}"
        if exc.retriable and payout.attempts < current_app.config["PAYMENTS_PAYOUT_MAX_ATTEMPTS"]:
            payout.next_attempt_at = utcnow() + backoff(payout.attempts)
            arm_payout_retry(payout.id, payout.next_attempt_at)
            return payout
        _fail(payout, disable_account=not exc.retriable)
        return payout
    payout.provider_transfer_id, payout.sent_at, payout.last_error = transfer.id, utcnow(), None
    payout.next_attempt_at = None
    _move_money(payout, "sent", transit, ledger.paid_out(seller, currency))
    move(payout, "payout", S.SENT, actor="system", reason=f"provider transfer {transfer.id}")
    publish(
        PayoutSent(
            aggregate_id=payout.id,
            actor="system",
            payout_id=payout.id,
            seller_id=seller,
            amount=payout.amount,
            currency=currency,
            provider_transfer_id=transfer.id,
        )
    )
    return payout


def _fail(payout: Payout, *, disable_account: bool) -> None:
    """The provider refused for good: the money returns to the seller's payable; staff see the error."""
    seller, currency = payout.seller_id, payout.currency
    _move_money(payout, "failed", ledger.in_transit(seller, currency), ledger.payable(seller, currency))
    payout.next_attempt_at = None
    move(payout, "payout", S.FAILED, actor="system", reason=payout.last_error or "transfer failed")
    if disable_account:  # the next batches skip the seller until the account is fixed
        account = db.session.get(SellerAccount, seller)
        if account is not None:
            account.payouts_enabled = False
    publish(
        PayoutFailed(
            aggregate_id=payout.id,
            actor="system",
            payout_id=payout.id,
            seller_id=seller,
            amount=payout.amount,
            currency=currency,
            error=payout.last_error or "",
        )
    )


def retry_payout(*, payout_id: uuid.UUID, actor: str, reason: str) -> Payout:
    """Staff: send a failed payout again (a new generation, so a new idempotency key)."""
    payout = db.session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    if payout is None:
        raise PaymentNotFound("no such payout")
    if payout.state != S.FAILED:
        raise WrongState(f"a {payout.state} payout cannot be retried")
    account = db.session.get(SellerAccount, payout.seller_id)
    if account is None:
        raise WrongState("the seller has no payout account")
    payable = ledger.payable(payout.seller_id, payout.currency)
    balance = ledger.posting.lock_accounts([payable])[payable][1]
    if balance - payout_reserve(payout.seller_id, payout.currency) < payout.amount or seller_on_hold(payout.seller_id):
        raise WrongState("the money of this payout is no longer available (paid out since, refunded or on hold)")
    account.payouts_enabled = True
    payout.generation += 1
    payout.attempts, payout.destination, payout.next_attempt_at = 0, account.provider_account_id, utcnow()
    _move_money(payout, "start", payable, ledger.in_transit(payout.seller_id, payout.currency))
    move(payout, "payout", S.PENDING, actor=actor, reason=reason)
    arm_payout_retry(payout.id, payout.next_attempt_at)
    return payout


def due_payouts(limit: int = 500) -> list[uuid.UUID]:
    query = (
        select(Payout.id)
        .where(Payout.state == S.PENDING, Payout.next_attempt_at <= utcnow())
        .order_by(Payout.created_at)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def run_payout_batch(*, limit: int = 1000) -> dict[str, int]:
    """Open a payout for every payable seller, then send every due payout; one commit per step."""
    from blueprints.payments.webhooks import deliver_local_events

    stats = {"opened": 0, "sent": 0, "failed": 0, "deferred": 0, "canceled": 0}
    minimum = current_app.config["PAYMENTS_PAYOUT_MINIMUM"]
    for seller_id, currency in payable_sellers(minimum, limit):
        if open_payout(seller_id=seller_id, currency=currency) is not None:
            stats["opened"] += 1
        db.session.commit()
    for payout_id in due_payouts(limit):
        payout = send_payout(payout_id=payout_id)
        deliver_local_events()
        db.session.commit()
        key = {S.SENT: "sent", S.FAILED: "failed", S.CANCELED: "canceled"}.get(payout.state, "deferred")
        stats[key] += 1
    return stats

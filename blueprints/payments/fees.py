"""Fees in integer minor units, and how a payment's money is split.

Rounding rule (documented, tested): a fee of ``bps`` basis points on ``amount`` minor units is
``amount * bps / 10_000`` rounded **half up** to the minor unit, computed exactly in integers as
``(amount * bps + 5_000) // 10_000``. Amounts and rates are never negative, so "half up" and "half
away from zero" agree. Example: 10% of 1,005 cents = 100.5 -> 101 cents; 10% of 1,004 = 100.4 -> 100.

Two fees exist: the **buyer fee** (buyer protection, added on top of the item amount and charged to the
buyer) and the **platform fee** (the seller's commission, taken from the item amount at release).
"""

from __future__ import annotations

from dataclasses import dataclass

BPS_DENOMINATOR = 10_000


def fee(amount: int, bps: int) -> int:
    """``bps`` basis points of ``amount``, rounded half up to the minor unit."""
    if amount < 0 or bps < 0:
        raise ValueError("fees apply to non-negative amounts and rates")
    return (amount * bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR


@dataclass(frozen=True)
class Split:
    """Where a payment's remaining escrow goes at release."""

    seller: int  # credited to the seller's payable
    platform: int  # platform fee + what is left of the buyer fee

    @property
    def total(self) -> int:
        return self.seller + self.platform


def refund_allocation(*, amount: int, buyer_fee: int, refunded: int, refund: int) -> tuple[int, int]:
    """Split a refund taken from escrow into (item part, buyer-fee part).

    Refunds come off the item amount first, then the buyer fee, so a full refund returns the fee too.
    """
    item_left = max(amount - refunded, 0)
    from_item = min(refund, item_left)
    from_fee = refund - from_item
    fee_left = buyer_fee - max(refunded - amount, 0)
    if from_fee > fee_left:
        raise ValueError("refund exceeds what is left of the payment")
    return from_item, from_fee


def release_split(*, amount: int, buyer_fee: int, refunded: int, platform_fee_bps: int) -> Split:
    """Split what escrow still holds for a payment: the commission applies to the item amount left."""
    item_left = max(amount - refunded, 0)
    fee_left = buyer_fee - max(refunded - amount, 0)
    commission = fee(item_left, platform_fee_bps)
    return Split(seller=item_left - commission, platform=commission + fee_left)

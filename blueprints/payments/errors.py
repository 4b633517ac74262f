"""Domain errors of payments: each carries its HTTP status and, when one applies, the field at fault.

They are :class:`app.generator.ServiceError`s, so generated actions and hand-written endpoints turn
them into the same problem+json answer.
"""

from __future__ import annotations

from app.generator import ServiceError


class PaymentError(ServiceError):
    status = 409
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        if field is not None:
            self.field = field
        errors = {self.field: [message]} if self.field else None
        super().__init__(message, status=type(self).status, errors=errors)


class PaymentNotFound(PaymentError):
    status = 404


class InvalidAmount(PaymentError):
    status = 422
    field = "amount"


class InvalidOrder(PaymentError):
    status = 422
    field = "order_id"


class WrongState(PaymentError):
    """The payment (refund, payout) is not in a state that allows this action."""


class OnHold(PaymentError):
    """A fraud, dispute or staff hold blocks this money movement."""


class ProviderUnavailable(PaymentError):
    status = 502


class ProviderRefused(PaymentError):
    """The provider refused the request itself (an unknown payment method, a closed account...)."""

    status = 422
    field = "payment_method"

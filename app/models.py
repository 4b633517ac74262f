"""Platform tables (schema ``platform``): one import point so alembic sees them all.

Each platform feature defines its tables in its own module; this module only gathers them.
"""

from app.audit import AuditRecord
from app.events.delivery import EventDelivery
from app.events.outbox import OutboxEvent
from app.events.timers import Timer
from app.events.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.idempotency import IdempotencyKey

__all__ = [
    "AuditRecord",
    "EventDelivery",
    "IdempotencyKey",
    "OutboxEvent",
    "Timer",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]

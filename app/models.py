"""Platform tables (schema ``platform``): one import point so alembic sees them all.

Each platform feature defines its tables in its own module; this module only gathers them.
"""

from app.audit import AuditRecord
from app.events.outbox import OutboxEvent

__all__ = ["AuditRecord", "OutboxEvent"]

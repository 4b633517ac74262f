"""Every table of the payments schema, gathered for alembic (``app.domain.import_all_models``)."""

from blueprints.payments.ledger.models import JournalEntry, JournalLine, LedgerAccount

__all__ = ["JournalEntry", "JournalLine", "LedgerAccount"]

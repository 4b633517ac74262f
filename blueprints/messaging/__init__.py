"""Chat threads and messages between buyers and sellers; the realtime gateway."""

from app.domain import Domain

domain = Domain(name="messaging", prefix="/messages", description=__doc__)

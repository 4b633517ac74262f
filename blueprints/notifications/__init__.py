"""Push, email, SMS and in-app notifications with preferences and delivery logs."""

from app.domain import Domain

domain = Domain(name="notifications", prefix="/notifications", description=__doc__)

"""Accounts, sessions, MFA and profiles; issues the JWTs the gateway validates."""

from app.domain import Domain

domain = Domain(name="auth", prefix="/auth", description=__doc__)

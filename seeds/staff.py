"""Staff accounts of the demo: one Admin (the printed login) and one trust-and-safety agent."""

from __future__ import annotations

from flask import current_app

from admin.accounts import ensure_staff
from admin.roles import TRUST_SAFETY

TRUST_SAFETY_DEMO = ("trust@bazaar.local", "bazaar-trust")


def seed(echo) -> None:  # type: ignore[no-untyped-def]
    config = current_app.config
    accounts = [(config["ADMIN_EMAIL"], config["ADMIN_PASSWORD"], "Admin"), (*TRUST_SAFETY_DEMO, TRUST_SAFETY)]
    for done, (email, password, role) in enumerate(accounts, start=1):
        ensure_staff(email=email, password=password, role=role, first_name=role, last_name="Demo")
        echo(f"  staff {email} ({role}): {done}/{len(accounts)}")


def demo_accounts() -> list[str]:
    config = current_app.config
    return [
        f"staff   {config['ADMIN_EMAIL']} / {config['ADMIN_PASSWORD']}  (Admin, /admin)",
        f"staff   {TRUST_SAFETY_DEMO[0]} / {TRUST_SAFETY_DEMO[1]}  ({TRUST_SAFETY}, /admin)",
    ]

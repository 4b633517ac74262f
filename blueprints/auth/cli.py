"""``bazaar auth grant-role|revoke-role <email> <role>``: operators give or take staff-granted roles.

The change is audited (actor ``staff:cli:<os user>``) and reaches the user's access tokens at their
next token refresh or sign-in.
"""

from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup

auth_cli = AppGroup("auth", help="Marketplace accounts: roles granted by staff.")


def _change(verb: str, email: str, role: str) -> None:
    from app.db import db
    from blueprints.auth import service

    change = service.grant_role if verb == "grant" else service.revoke_role
    try:
        changed = change(email=email, role=role, actor_type="staff", actor_id=f"cli:{getpass.getuser()}")
    except service.AuthError as exc:
        db.session.rollback()
        details = "; ".join(" ".join(messages) for messages in (exc.errors or {}).values())
        raise click.ClickException(details or exc.message) from None
    db.session.commit()
    done = {"grant": ("granted", "already had"), "revoke": ("revoked", "did not have")}[verb]
    click.echo(f"{email}: {role} {done[0]}" if changed else f"{email} {done[1]} {role}: nothing to do")
    click.echo("It takes effect at the user's next token refresh or sign-in.")


@auth_cli.command("grant-role", help="Give ROLE (integrator) to the account of EMAIL.")
@click.argument("email")
@click.argument("role")
def grant_role(email: str, role: str) -> None:
    _change("grant", email, role)


@auth_cli.command("revoke-role", help="Take ROLE back from the account of EMAIL.")
@click.argument("email")
@click.argument("role")
def revoke_role(email: str, role: str) -> None:
    _change("revoke", email, role)

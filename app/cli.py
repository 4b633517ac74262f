"""The ``bazaar`` command: migrations, staff accounts, workers, seeds, and the all-in-one dev runner.

Commands that need the app build it lazily (FlaskGroup), so ``bazaar config example`` and
``bazaar run`` work before any database exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from config import DOMAINS, PLATFORM_SCHEMAS, ConfigError, env_example


def _create_app() -> Flask:
    """The app of the environment's settings; with no ``DATABASE_URL``, the one a ``bazaar run``
    in another terminal is serving (its embedded servers), so commands act on the system you see."""
    import os

    from app import create_app
    from app.devserver import running_environ

    if not os.environ.get("DATABASE_URL"):
        for key, value in running_environ().items():
            os.environ.setdefault(key, value)
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)


@click.group("db", help="Database migrations (one alembic branch per domain).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Migrate every branch to head.")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    from app.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo("database migrated to " + revision)


@db_group.command("revision", help="Autogenerate a migration for one branch's schema.")
@click.argument("branch", type=click.Choice(PLATFORM_SCHEMAS + DOMAINS))
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(branch: str, message: str) -> None:
    from alembic import command

    from app.migrate import MIGRATIONS, alembic_config

    versions = MIGRATIONS / "versions" / branch
    number = 1 + max((int(f.name.split("_")[1]) for f in versions.glob(f"{branch}_[0-9]*_*.py")), default=0)
    cfg = alembic_config(current_app.config["DATABASE_URL"])
    cfg.attributes["only_schema"] = branch
    cfg.attributes["autogenerate"] = True
    script = command.revision(
        cfg,
        message=message,
        autogenerate=True,
        head=f"{branch}@head",
        version_path=str(versions),
        rev_id=f"{branch}_{number:04d}",
    )
    click.echo(f"wrote {script.path}" if script else "no changes detected")


@db_group.command("check", help="Fail when the models and the migrated database differ.")
@with_appcontext
def db_check() -> None:
    from app.schema_check import schema_differences

    diffs = schema_differences()
    if diffs:
        for diff in diffs:
            click.echo(repr(diff))
        sys.exit(1)
    click.echo("models and database agree")


@click.group("admin", help="Staff accounts and roles of the /admin site.")
def admin_group() -> None:
    pass


@admin_group.command("sync", help="Create permissions for every admin view and the built-in roles.")
@with_appcontext
def admin_sync() -> None:
    from admin.accounts import sync_permissions

    sync_permissions()
    click.echo("admin permissions and roles synced")


@admin_group.command("create-staff", help="Create (or reset the password of) a staff account.")
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["Admin", "TrustSafety"]), default="Admin", show_default=True)
@click.option("--first-name", default="Staff")
@click.option("--last-name", default="Member")
@with_appcontext
def admin_create_staff(email: str, password: str, role: str, first_name: str, last_name: str) -> None:
    from admin.accounts import ensure_staff

    created = ensure_staff(email=email, password=password, role=role, first_name=first_name, last_name=last_name)
    click.echo(f"staff {email} ({role}) {'created' if created else 'updated'}")


@click.group("config", help="Settings.")
def config_group() -> None:
    pass


@config_group.command("example", help="Print .env.example (every setting, its default and meaning).")
def config_example() -> None:
    click.echo(env_example())


@click.command("worker", help="Run an RQ worker on the given queues (default: all) with the scheduler.")
@click.option("--queues", "-q", multiple=True)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--no-scheduler", is_flag=True)
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, no_scheduler: bool) -> None:
    from workers.runner import run_worker

    # WORKER_QUEUES may be "a,b" text (its default) or a list: run_worker accepts both.
    run_worker(queues or current_app.config["WORKER_QUEUES"], burst=burst, scheduler=not no_scheduler)


@click.command("relay", help="Move committed outbox events to the workers and fire due timers (until SIGTERM).")
@with_appcontext
def relay_command() -> None:
    from workers.runner import run_relay

    run_relay()


@click.command("seed", help="Load idempotent demo data (users, staff, categories, listings).")
@with_appcontext
def seed_command() -> None:
    from seeds import run_seeds

    run_seeds(echo=click.echo)


@click.command("run", help="Run everything locally: embedded PostgreSQL/Redis when unset, web, worker.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-seed", is_flag=True)
def run_command(host: str, port: int, no_seed: bool) -> None:
    from app.devserver import run_all

    run_all(host=host, port=port, seed=not no_seed)


@click.group("mail", help="Mail caught by `bazaar run` (in var/mail when SMTP_HOST is unset).")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The Maildir (default: var/mail, or $BAZAAR_VAR_DIR/mail).",
)
@click.pass_context
def mail_group(ctx: click.Context, folder: Path | None) -> None:
    from app.devserver import VAR

    ctx.obj = folder or VAR / "mail"


@mail_group.command("list", help="One line per caught message: date, recipient, subject.")
@click.option("--to", "address", default=None, help="Only messages to this address.")
@click.pass_obj
def mail_list(folder: Path, address: str | None) -> None:
    from app.mailcatcher import addressed_to, messages

    for n, message in enumerate(messages(folder), start=1):
        if address is None or addressed_to(message, address):
            click.echo(f"{n:>4}  {message['Date']}  {message['To']}  {message['Subject']}")


@mail_group.command("show", help="Print the newest caught message (to an address), headers and text.")
@click.option("--to", "address", default=None, help="The newest message to this address.")
@click.option("--subject", default=None, help="... whose subject contains this text (case-insensitive).")
@click.option("--wait", default=0.0, show_default=True, help="Seconds to wait for it (a worker sends mail).")
@click.pass_obj
def mail_show(folder: Path, address: str | None, subject: str | None, wait: float) -> None:
    import time

    from app.mailcatcher import addressed_to, messages, text_of

    deadline = time.monotonic() + wait
    while True:
        found = [
            m
            for m in messages(folder)
            if (address is None or addressed_to(m, address))
            and (subject is None or subject.lower() in str(m.get("Subject", "")).lower())
        ]
        if found or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if not found:
        raise click.ClickException(f"no caught mail{f' to {address}' if address else ''} in {folder}")
    message = found[-1]
    for header in ("From", "To", "Date", "Subject"):
        click.echo(f"{header}: {message.get(header, '')}")
    click.echo("")
    click.echo(text_of(message))


COMMANDS = (db_group, admin_group, config_group, worker_command, relay_command, seed_command)


def register_cli(app: Flask) -> None:
    """Also expose the commands on ``flask --app wsgi ...``."""
    for command in COMMANDS:
        if command.name not in app.cli.commands:
            app.cli.add_command(command)


class _BazaarGroup(FlaskGroup):
    """``bazaar --help`` lists the commands that need no app even when the settings are incomplete
    (a fresh machine): the configuration error is printed above them, not instead of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            return super().list_commands(ctx)
        except SystemExit:
            return sorted(click.Group.list_commands(self, ctx))


main = _BazaarGroup(name="bazaar", create_app=_create_app, add_default_commands=True, load_dotenv=False)
for _command in (*COMMANDS, run_command, mail_group):
    main.add_command(_command)

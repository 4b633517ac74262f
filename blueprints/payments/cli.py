"""``bazaar payments ...``: run the payout batch or the overdue sweep by hand, check the ledger (operators, cron)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

payments_cli = AppGroup("payments", help="Payments: payouts and the overdue sweep.")


@payments_cli.command("payouts", help="Open and send payouts for every payable seller now.")
def run_payouts() -> None:
    from blueprints.payments import tasks

    click.echo(tasks.run_payouts())


@payments_cli.command("sweep", help="Expire, release and refund whatever is overdue (timers do this normally).")
def sweep() -> None:
    from blueprints.payments import tasks

    click.echo(tasks.sweep())


@payments_cli.command("ledger-check", help="Check the ledger: entries balanced, balances equal to the journal.")
def ledger_check() -> None:
    """Prints the check as JSON; exits 1 when the ledger is not sound (for cron and monitoring)."""
    from blueprints.payments import ledger

    report = ledger.soundness()
    click.echo(json.dumps(report, indent=2, sort_keys=True))
    if not report["sound"]:
        raise SystemExit(1)

"""``bazaar payments ...``: run the payout batch or the overdue sweep by hand (operators, cron)."""

from __future__ import annotations

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

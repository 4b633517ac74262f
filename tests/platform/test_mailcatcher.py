"""The run command's mail catcher: real SMTP in, a Maildir on disk, `bazaar mail` reading it back."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from click.testing import CliRunner

from app import mailcatcher
from app.cli import main
from app.embedded import free_port


def _send(port: int, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "Bazaar <no-reply@bazaar.local>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_caught_mail_is_listed_and_the_newest_to_an_address_is_shown(tmp_path):
    port = free_port()
    catcher = mailcatcher.start(tmp_path / "mail", port=port)
    try:
        _send(port, "Sam <sam@example.com>", "Confirm your email address", "Open http://x/verify-email?token=abc")
        _send(port, "bea@example.com", "Your offer was accepted", "Pay within 30 minutes.")
        _send(port, "sam@example.com", "Payment received", "Ship the item.")
    finally:
        catcher.stop()

    runner = CliRunner()
    listed = runner.invoke(main, ["mail", "--dir", str(tmp_path / "mail"), "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert len(lines) == 3
    assert "Confirm your email address" in lines[0] and "Payment received" in lines[2]

    only_bea = runner.invoke(main, ["mail", "--dir", str(tmp_path / "mail"), "list", "--to", "BEA@example.com"])
    assert only_bea.output.count("\n") == 1 and "offer was accepted" in only_bea.output

    newest = runner.invoke(main, ["mail", "--dir", str(tmp_path / "mail"), "show", "--to", "sam@example.com"])
    assert newest.exit_code == 0
    assert "Subject: Payment received" in newest.output and "Ship the item." in newest.output

    by_subject = runner.invoke(
        main, ["mail", "--dir", str(tmp_path / "mail"), "show", "--to", "sam@example.com", "--subject", "CONFIRM"]
    )
    assert "verify-email?token=abc" in by_subject.output


def test_show_fails_clearly_when_nothing_matches(tmp_path):
    result = CliRunner().invoke(
        main, ["mail", "--dir", str(tmp_path / "mail"), "show", "--to", "nobody@example.com", "--wait", "0.3"]
    )
    assert result.exit_code == 1
    assert "no caught mail to nobody@example.com" in result.output

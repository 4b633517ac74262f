"""The ledger's rules, each enforced twice: in Python before any SQL, and by PostgreSQL at commit."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db
from blueprints.payments import ledger
from blueprints.payments.ledger import AccountKind, JournalEntry, JournalLine

USD = "USD"


def charge(buyer: uuid.UUID, amount: int, reference: str | None = None) -> uuid.UUID:
    return ledger.post(
        kind="hold",
        reference=reference or f"test:{uuid.uuid4()}",
        lines=[(ledger.buyer_funding(buyer, USD), -amount), (ledger.escrow(USD), amount)],
    )


def assert_sound() -> None:
    assert ledger.drifted_accounts() == []
    assert all(total == 0 for total in ledger.totals_by_currency().values())


def test_balanced_entry_moves_money_and_balances_follow(app_ctx):
    buyer, seller = uuid.uuid4(), uuid.uuid4()
    charge(buyer, 10_500)
    assert ledger.balance(ledger.escrow(USD)) == 10_500
    assert ledger.balance(ledger.buyer_funding(buyer, USD)) == -10_500
    ledger.post(
        kind="release",
        reference="release:1",
        lines=[
            (ledger.escrow(USD), -10_500),
            (ledger.payable(seller, USD), 9_000),
            (ledger.fees(USD), 1_500),
        ],
    )
    db.session.commit()
    assert ledger.balance(ledger.escrow(USD)) == 0
    assert ledger.balance(ledger.payable(seller, USD)) == 9_000
    assert ledger.derived_balance(ledger.payable(seller, USD)) == 9_000
    assert ledger.balance(ledger.fees(USD)) == 1_500
    assert ledger.balance(ledger.payable(uuid.uuid4(), USD)) == 0
    assert_sound()


def test_lines_on_one_account_are_netted_into_one_line(app_ctx):
    buyer = uuid.uuid4()
    entry_id = ledger.post(
        kind="hold",
        reference="netted",
        lines=[
            (ledger.buyer_funding(buyer, USD), -700),
            (ledger.escrow(USD), 300),
            (ledger.escrow(USD), 400),
        ],
    )
    db.session.commit()
    entry = db.session.get(JournalEntry, entry_id)
    assert sorted(line.amount for line in entry.lines) == [-700, 700]


@pytest.mark.parametrize(
    "lines",
    [
        [(AccountKind.PLATFORM_ESCROW, 100), (AccountKind.PLATFORM_FEES, -99)],
        [(AccountKind.PLATFORM_ESCROW, 100)],
        [(AccountKind.PLATFORM_ESCROW, 100), (AccountKind.PLATFORM_ESCROW, -100)],  # nets to nothing
        [(AccountKind.PLATFORM_ESCROW, 1.5), (AccountKind.PLATFORM_FEES, -1.5)],  # not minor units
    ],
)
def test_python_refuses_an_unbalanced_entry_before_any_sql(app_ctx, lines):
    refs = [(ledger.AccountRef(kind, USD), amount) for kind, amount in lines]
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post(kind="bad", reference="bad", lines=refs)
    db.session.commit()
    assert db.session.execute(text("SELECT count(*) FROM payments.journal_entries")).scalar_one() == 0


def test_each_currency_must_balance_on_its_own(app_ctx):
    buyer = uuid.uuid4()
    with pytest.raises(ledger.UnbalancedEntry):
        ledger.post(
            kind="bad",
            reference="fx",
            lines=[(ledger.buyer_funding(buyer, USD), -100), (ledger.escrow("EUR"), 100)],
        )


def _raw_entry(account_ids_amounts: list[tuple[uuid.UUID, str, int]]) -> None:
    entry_id = uuid.uuid4()
    db.session.execute(
        text("INSERT INTO payments.journal_entries (id, kind, reference) VALUES (:id, 'raw', :ref)"),
        {"id": entry_id, "ref": f"raw:{entry_id}"},
    )
    for account_id, currency, amount in account_ids_amounts:
        db.session.execute(
            text(
                "INSERT INTO payments.journal_lines (id, entry_id, account_id, currency, amount) "
                "VALUES (:id, :entry, :account, :currency, :amount)"
            ),
            {"id": uuid.uuid4(), "entry": entry_id, "account": account_id, "currency": currency, "amount": amount},
        )


def _account_ids(*refs: ledger.AccountRef) -> list[uuid.UUID]:
    locked = ledger.posting.lock_accounts(refs)
    db.session.commit()
    return [locked[ref][0] for ref in refs]


def test_database_refuses_at_commit_an_unbalanced_entry_written_in_raw_sql(app_ctx):
    fees_id, escrow_id = _account_ids(ledger.fees(USD), ledger.escrow(USD))
    charge(uuid.uuid4(), 1000)
    db.session.commit()
    # Deferred: the statements succeed, the COMMIT fails, and nothing of the transaction stays.
    _raw_entry([(escrow_id, USD, -500), (fees_id, USD, 499)])
    with pytest.raises(IntegrityError, match="does not balance"):
        db.session.commit()
    db.session.rollback()
    assert ledger.balance(ledger.escrow(USD)) == 1000
    assert_sound()


def test_database_refuses_an_entry_with_a_single_line_or_none(app_ctx):
    _raw_entry([])
    with pytest.raises(IntegrityError, match="fewer than two lines"):
        db.session.commit()
    db.session.rollback()
    fees_id, _escrow_id = _account_ids(ledger.fees(USD), ledger.escrow(USD))
    with pytest.raises(IntegrityError):
        _raw_entry([(fees_id, USD, 0)])  # a zero line is refused by a CHECK at once
    db.session.rollback()


def test_deferred_check_sees_the_whole_entry_so_lines_can_arrive_in_any_order(app_ctx):
    fees_id, escrow_id = _account_ids(ledger.fees(USD), ledger.escrow(USD))
    charge(uuid.uuid4(), 1000)
    db.session.commit()
    _raw_entry([(fees_id, USD, 250), (escrow_id, USD, -250)])
    db.session.commit()
    assert ledger.balance(ledger.fees(USD)) == 250
    assert_sound()


def test_orm_built_unbalanced_entry_is_refused_at_flush(app_ctx):
    fees_id, escrow_id = _account_ids(ledger.fees(USD), ledger.escrow(USD))
    entry = JournalEntry(kind="orm", reference="orm")
    entry.lines.append(JournalLine(account_id=escrow_id, currency=USD, amount=-10))
    entry.lines.append(JournalLine(account_id=fees_id, currency=USD, amount=11))
    db.session.add(entry)
    with pytest.raises(ledger.UnbalancedEntry):
        db.session.flush()
    db.session.rollback()


def test_a_line_in_another_currency_than_its_account_is_refused(app_ctx):
    fees_id, escrow_id = _account_ids(ledger.fees(USD), ledger.escrow(USD))
    with pytest.raises(IntegrityError, match="fk_journal_lines_account_currency"):
        _raw_entry([(escrow_id, "EUR", -10), (fees_id, "EUR", 10)])
    db.session.rollback()


def test_journal_is_append_only_in_sql_and_in_the_orm(app_ctx):
    entry_id = charge(uuid.uuid4(), 1000)
    db.session.commit()
    for statement in (
        "UPDATE payments.journal_lines SET amount = amount * 2",
        "DELETE FROM payments.journal_lines",
        "UPDATE payments.journal_entries SET memo = 'x'",
        "DELETE FROM payments.journal_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    entry = db.session.get(JournalEntry, entry_id)
    entry.memo = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_balances_change_only_through_journal_lines(app_ctx):
    charge(uuid.uuid4(), 1000)
    db.session.commit()
    with pytest.raises(DBAPIError, match="only by posting"):
        db.session.execute(text("UPDATE payments.ledger_accounts SET balance = 0"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="never changes identity"):
        db.session.execute(text("UPDATE payments.ledger_accounts SET currency = 'EUR'"))
    db.session.rollback()
    assert ledger.balance(ledger.escrow(USD)) == 1000


def test_overdraft_is_refused_in_python_and_by_the_balance_check(app_ctx):
    seller = uuid.uuid4()
    charge(uuid.uuid4(), 1000)
    db.session.commit()
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post(
            kind="release",
            reference="too-much",
            lines=[(ledger.escrow(USD), -1001), (ledger.payable(seller, USD), 1001)],
        )
    db.session.rollback()
    payable_id, escrow_id = _account_ids(ledger.payable(seller, USD), ledger.escrow(USD))
    with pytest.raises(IntegrityError, match="balance_sign"):
        _raw_entry([(payable_id, USD, 1001), (escrow_id, USD, -1001)])
    db.session.rollback()
    # buyer funding is the one account that only goes negative
    with pytest.raises(ledger.InsufficientFunds):
        ledger.post(
            kind="bad",
            reference="reverse-funding",
            lines=[(ledger.buyer_funding(uuid.uuid4(), USD), 5), (ledger.fees(USD), -5)],
        )
    db.session.rollback()
    assert_sound()


def test_the_same_movement_cannot_be_posted_twice(app_ctx):
    buyer = uuid.uuid4()
    charge(buyer, 100, reference="hold:p1")
    db.session.commit()
    with pytest.raises(ledger.DuplicatePosting):
        charge(buyer, 100, reference="hold:p1")
    db.session.rollback()
    assert ledger.balance(ledger.escrow(USD)) == 100


def test_account_refs_validate_owner_and_currency():
    with pytest.raises(ValueError):
        ledger.AccountRef(AccountKind.PLATFORM_ESCROW, USD, uuid.uuid4())
    with pytest.raises(ValueError):
        ledger.AccountRef(AccountKind.SELLER_PAYABLE, USD)
    with pytest.raises(ValueError):
        ledger.escrow("usd")


def test_concurrent_postings_on_one_hot_account_lose_no_update(app):
    sellers = [uuid.uuid4() for _ in range(4)]
    with app.app_context():
        charge(uuid.uuid4(), 40_000)
        db.session.commit()

    def release_many(seller: uuid.UUID) -> None:
        with app.app_context():
            for index in range(25):
                ledger.post(
                    kind="release",
                    reference=f"r:{seller}:{index}",
                    lines=[
                        (ledger.escrow(USD), -400),
                        (ledger.payable(seller, USD), 360),
                        (ledger.fees(USD), 40),
                    ],
                )
                db.session.commit()

    with ThreadPoolExecutor(max_workers=len(sellers)) as pool:
        for future in [pool.submit(release_many, seller) for seller in sellers]:
            future.result(timeout=60)  # a deadlock or a lost update would raise here
    with app.app_context():
        assert ledger.balance(ledger.escrow(USD)) == 0
        assert ledger.balance(ledger.fees(USD)) == 4_000
        assert all(ledger.balance(ledger.payable(s, USD)) == 9_000 for s in sellers)
        assert_sound()


def test_the_ledger_check_command_passes_a_sound_ledger_and_names_what_breaks_one(app):
    import json

    buyer = uuid.uuid4()
    with app.app_context():
        entry = charge(buyer, 2_000)
        charge(buyer, 500)
        db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["payments", "ledger-check"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["sound"] is True and report["entries"] == 2
    assert report["trial_balance"] == {USD: 0}
    assert report["unbalanced_entries"] == [] and report["drifted_accounts"] == []

    with app.app_context():
        # Forge a line behind the ledger's back (triggers off, as only a superuser could): one-sided money.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        line = db.session.execute(
            text("SELECT account_id FROM payments.journal_lines WHERE entry_id = :e AND amount > 0"), {"e": entry}
        ).scalar_one()
        db.session.execute(
            text(
                "INSERT INTO payments.journal_lines (id, entry_id, account_id, currency, amount) "
                "VALUES (gen_random_uuid(), :e, :a, 'USD', 7)"
            ),
            {"e": entry, "a": line},
        )
        db.session.commit()
    result = runner.invoke(args=["payments", "ledger-check"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["sound"] is False and report["trial_balance"] == {USD: 7}
    assert report["unbalanced_entries"] == [{"entry_id": str(entry), "currency": USD, "sum": 7}]
    [drift] = report["drifted_accounts"]
    assert drift["account_id"] == str(line) and drift["journal"] - drift["kept"] == 7

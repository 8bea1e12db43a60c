"""The audit chain detects an edited, deleted or reordered entry and names it."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import delete, select, update

from attune.privacy.audit import GENESIS, AuditLog, verify_chain
from attune.storage import tables
from attune.storage.store import Store
from attune.storage.tables_privacy import audit_subject_keys


@pytest.fixture()
def log() -> AuditLog:
    clock = iter(float(1_700_000_000 + i) for i in range(1000))
    audit = AuditLog(Store("sqlite://"), clock=lambda: next(clock))
    for i in range(6):
        audit.append("decision", "engine", f"subject-{i % 2}", {"decision_id": f"d{i}"})
    return audit


def test_intact_chain_verifies(log: AuditLog) -> None:
    verdict = log.verify()
    assert verdict.ok and verdict.checked == 6
    rows = log.entries()
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))


def test_edited_entry_is_named(log: AuditLog) -> None:
    with log.store.begin() as conn:
        conn.execute(
            update(tables.audit_log)
            .where(tables.audit_log.c.seq == 4)
            .values(data={"decision_id": "forged"})
        )
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 4 and "edited" in verdict.problem
    assert verdict.checked == 3


def test_deleted_entry_is_named(log: AuditLog) -> None:
    with log.store.begin() as conn:
        conn.execute(delete(tables.audit_log).where(tables.audit_log.c.seq == 3))
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 3 and "deleted" in verdict.problem


def test_cut_tail_is_caught_by_an_anchor(log: AuditLog) -> None:
    anchor = log.head()
    assert anchor[0] == 6
    with log.store.begin() as conn:
        conn.execute(delete(tables.audit_log).where(tables.audit_log.c.seq >= 5))
    assert log.verify().ok  # without an anchor a shorter log looks complete
    verdict = log.verify(anchor)
    assert not verdict.ok and verdict.bad_seq == 5 and "cut off" in verdict.problem


def test_appends_continue_the_chain_across_processes(log: AuditLog) -> None:
    other = AuditLog(log.store)  # a second process reads the head from storage
    other.append("retention_purge", "purge", None, {"rows": 1})
    log.append("decision", "engine", "subject-0", {"decision_id": "d7"})
    assert [r["seq"] for r in log.entries()][-2:] == [7, 8]
    assert log.verify(log.head()).ok


def test_reordered_entries_are_named(log: AuditLog) -> None:
    rows = log.entries()
    swapped = [rows[0], rows[2], rows[1], *rows[3:]]
    # renumber as a forger would to hide the move
    forged = [{**r, "seq": i + 1} for i, r in enumerate(swapped)]
    verdict = verify_chain(forged)
    assert not verdict.ok and verdict.bad_seq == 2


def test_moved_rows_in_storage_are_named(log: AuditLog) -> None:
    rows = log.entries()
    a, b = rows[1], rows[2]
    with log.store.begin() as conn:
        for src, dst in ((a, b), (b, a)):
            conn.execute(
                update(tables.audit_log)
                .where(tables.audit_log.c.seq == dst["seq"])
                .values(
                    **{k: src[k] for k in ("at", "action", "data", "subject", "prev_hash", "hash")}
                )
            )
    verdict = log.verify()
    assert not verdict.ok and verdict.bad_seq == 2


def test_subject_is_stored_only_as_an_erasable_reference(log: AuditLog) -> None:
    rows = log.entries()
    assert all("subject-" not in str(r) for r in rows)
    mine = log.entries(subject="subject-0")
    assert [r["data"]["decision_id"] for r in mine] == ["d0", "d2", "d4"]
    log.refs.shred("subject-0")
    with log.store.connect() as conn:
        keys = conn.execute(select(audit_subject_keys.c.subject)).scalars().all()
    assert keys == ["subject-1"]
    # The chain still verifies, but the old entries no longer link to the erased subject.
    assert log.verify().ok
    assert log.entries(subject="subject-0") == []


def test_unknown_action_is_refused(log: AuditLog) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        log.append("coffee", "me")


def test_queued_entries_chain_on_flush_even_with_a_second_writer(log: AuditLog) -> None:
    other = AuditLog(log.store)
    for i in range(3):
        assert log.append("decision", "engine", "subject-9", {"i": i}, sync=False) == 0
    other.append("retention_purge", "purge", None, {"rows": 2})  # takes seq 7 meanwhile
    assert log.flush() == 10  # the queued three were re-chained after the other's entry
    rows = log.entries()
    assert [r["seq"] for r in rows] == list(range(1, 11))
    assert [r["action"] for r in rows[6:]] == ["retention_purge", *["decision"] * 3]
    assert log.verify().ok

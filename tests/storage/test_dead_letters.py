"""A row the database refuses after its event was acknowledged goes to ``dead_letters`` (with
the refusal and a counter), never silently skipped; its good neighbours are written."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from attune.storage import tables
from attune.storage.store import Store


def _signal(sid: str, subject: str | None) -> dict[str, object]:
    return {
        "session_id": sid,
        "subject": subject,
        "event_id": "e",
        "modality": "behaviour",
        "name": "rage_click",
        "value": 0.5,
        "confidence": 0.5,
        "evidence": "4 clicks",
        "cx": {"frustrated": 1.0},
        "source": "test",
        "step": "/pay",
        "at": 1.0,
        "expires_at": 2.0,
    }


def test_refused_rows_go_to_dead_letters(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'dl.db'}")
    # subject is NOT NULL: the database refuses the middle row
    store.write_batch({"signals": [_signal("a", "p1"), _signal("b", None), _signal("c", "p3")]})
    with store.connect() as conn:
        kept = set(conn.execute(select(tables.signals.c.session_id)).scalars())
        letters = conn.execute(select(tables.dead_letters)).all()
    assert kept == {"a", "c"}
    assert len(letters) == 1 and store.dead_letter_count == 1
    assert letters[0].table_name == "signals" and "IntegrityError" in letters[0].reason
    assert '"session_id": "b"' in letters[0].row and "[SQL" not in letters[0].reason
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.dead_letters)).scalar() == 1

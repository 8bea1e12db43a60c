"""Erasure and withdrawal that stick everywhere: a CLI erase while the server runs (another
process, the same database) is honoured by the server within its refresh interval, the next
event of the erased person is not stored, and no trace of the pseudonym, the session id or the
text is left in the SQLite files (secure_delete + WAL checkpoint). A withdrawn modality stores
nothing more of itself and its evidence leaves the live state at once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from attune.api.app import create_app
from attune.cli import app as cli
from attune.config import Settings
from attune.storage import tables

T0 = 1_767_000_000.0
SECRET_TEXT = "my zebracorn parcel never arrived"
SESSION = "sess-zebracorn-77"


def _message(n: int, user: str, session: str, text: str = SECRET_TEXT) -> dict[str, Any]:
    return {
        "messageId": f"msg-{user}-{n}",
        "userId": user,
        "sessionId": session,
        "timestamp": T0 + n,
        "text": text,
    }


def _wait_until(check: Any, limit_s: float = 10.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_a_cli_erase_sticks_in_a_running_server_and_leaves_no_trace(
    settings: Settings, tmp_path: Path, monkeypatch: Any
) -> None:
    app = create_app(settings.model_copy(update={"consent_refresh_s": 0.1}))
    auth = {"Authorization": f"Bearer {app.state.keys.create('ops', ['admin'])}"}
    pseudonym = app.state.privacy.subject("erin")
    with TestClient(app, headers=auth) as client:
        grant = {"userId": "erin", "modalities": ["text"]}
        assert client.post("/v1/consent/grant", json=grant).status_code == 200
        for n in range(3):
            assert client.post("/v1/messages", json=_message(n, "erin", SESSION)).status_code == 200
        assert SESSION in app.state.engine.sessions

        monkeypatch.setenv("ATTUNE_PSEUDONYM_KEY", settings.pseudonym_key)
        out = CliRunner().invoke(
            cli, ["erase", "erin", "--yes", "--db", settings.database_url, "--actor", "dpo"]
        )
        assert out.exit_code == 0, out.output
        # the server drops the erased session from memory on its next refresh
        assert _wait_until(lambda: SESSION not in app.state.engine.sessions)
        late = client.post("/v1/messages", json=_message(9, "erin", SESSION))
        assert late.status_code == 200 and late.json()["decision"] is None
    with app.state.store.connect() as conn:
        assert conn.execute(select(tables.events.c.id)).all() == []
    db_file = Path(settings.database_url.removeprefix("sqlite:///"))
    files = [p for p in db_file.parent.iterdir() if p.name.startswith(db_file.name)]
    raw = b"".join(p.read_bytes() for p in files)
    for trace in (pseudonym, SESSION, "zebracorn"):
        assert trace.encode() not in raw, f"{trace!r} left in {[p.name for p in files]}"


def test_a_withdrawn_modality_stores_nothing_and_its_evidence_goes_at_once(
    settings: Settings,
) -> None:
    app = create_app(settings)
    auth = {"Authorization": f"Bearer {app.state.keys.create('ops', ['admin'])}"}
    clicks = [
        {
            "type": "track",
            "messageId": f"c{i}",
            "userId": "wes",
            "sessionId": "w1",
            "timestamp": T0 + 0.2 * i,
            "event": "click",
            "properties": {"selector": "#pay", "x": 1, "y": 1},
        }
        for i in range(5)
    ]
    with TestClient(app, headers=auth) as client:
        r = client.post("/v1/batch", json={"batch": clicks})
        assert r.json()["decisions"]["w1"]["state"]["moved_by"]  # behaviour evidence
        revoke = {"userId": "wes", "modalities": ["behaviour"]}
        assert client.post("/v1/consent/revoke", json=revoke).status_code == 200
        rt = app.state.engine.sessions["w1"]
        assert rt.fusion.buckets == {} and rt.fusion.recent == []  # evidence gone at once
        view = client.get("/v1/sessions/w1").json()
        assert view["state"]["moved_by"] == [] and view["state"]["top"] == "neutral"
        later = [{**c, "messageId": f"later{i}"} for i, c in enumerate(clicks)]
        r = client.post("/v1/batch", json={"batch": later})
        assert r.status_code == 200
        explanation = r.json()["decisions"]["w1"]["explanation"]
        assert "Emotion analysis is off for you (how you use the page)" in explanation
    with app.state.store.connect() as conn:
        rows = conn.execute(
            select(tables.events.c.id, tables.events.c.payload).where(
                tables.events.c.id.like("later%")
            )
        ).all()
    assert len(rows) == 5 and all(r.payload is None for r in rows)  # ids only (dedupe)

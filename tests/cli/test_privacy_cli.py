"""The trust CLI against a real SQLite file: audit verify names a tampered entry (exit 1),
purge ages data, consent/export/erase work by raw id, governance approvals and the report,
and 'eval pii --json' prints exactly one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.conftest import wire
from typer.testing import CliRunner

from attune.cli import app
from attune.config import Settings
from attune.events.schemas import Message, Track
from attune.policy.loader import EXAMPLES
from attune.privacy.audit import AuditLog
from attune.storage import tables
from attune.storage.store import Store

T0 = 1_767_000_000.0
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ATTUNE_DATABASE_URL", url)
    monkeypatch.setenv("ATTUNE_PSEUDONYM_KEY", "cli-key")
    store = Store(url)
    settings = Settings(database_url=url, pseudonym_key="cli-key", modalities=[])
    svc = wire(settings, store, analyzers={})
    ids = {"userId": "cust-1", "sessionId": "s1"}
    svc.engine.ingest(
        Track.model_validate({"messageId": "e1", "timestamp": T0, "event": "click", **ids})
    )
    svc.engine.ingest(
        Message.model_validate(
            {"messageId": "e2", "timestamp": T0 + 1, "text": "mail me at a@b.de", **ids}
        )
    )
    svc.engine.flush()
    store.close()
    return url


def test_audit_verify_names_a_tampered_entry(db: str) -> None:
    for action in ("grant", "revoke"):
        r = runner.invoke(app, ["consent", action, "cust-1", "text", "--source", "phone"])
        assert r.exit_code == 0, r.output
    ok = runner.invoke(app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    head = runner.invoke(app, ["audit", "head"]).stdout.strip()
    store = Store(db)
    with store.begin() as conn:
        conn.execute(
            update(tables.audit_log).where(tables.audit_log.c.seq == 2).values(actor="someone-else")
        )
    store.close()
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "entry 2" in bad.output and "edited" in bad.output
    assert runner.invoke(app, ["audit", "verify", "--anchor", "x"]).exit_code == 2
    assert ":" in head


def test_purge_ages_data_with_a_given_time(db: str) -> None:
    r = runner.invoke(app, ["purge", "--json", "--now", str(T0 + 10)])
    assert json.loads(r.stdout)["deleted"]["message text"] == 0
    r = runner.invoke(app, ["purge", "--json", "--now", str(T0 + 7200)])
    deleted = json.loads(r.stdout)["deleted"]
    assert deleted["message text"] == 1  # default text TTL: 1 h


def test_consent_export_erase_by_raw_id(db: str) -> None:
    runner.invoke(app, ["consent", "grant", "cust-1", "text", "--text-version", "c-v1"])
    shown = json.loads(runner.invoke(app, ["consent", "show", "cust-1"]).stdout)
    assert shown["history"][0]["text_version"] == "c-v1"
    bad = runner.invoke(app, ["consent", "grant", "cust-1", "smell"])
    assert bad.exit_code == 2 and "unknown modality" in bad.output
    out = json.loads(runner.invoke(app, ["export", "cust-1"]).stdout)
    assert {e["id"] for e in out["events"]} == {"e1", "e2"}
    assert "a@b.de" not in json.dumps(out)
    r = runner.invoke(app, ["erase", "cust-1", "--yes"])
    assert r.exit_code == 0 and json.loads(r.stdout)["deleted"]["events"] == 2
    assert json.loads(runner.invoke(app, ["export", "cust-1"]).stdout)["events"] == []
    missing = runner.invoke(app, ["explain", "nope"])
    assert missing.exit_code == 2 and "no decision" in missing.output


def test_governance_cli(db: str) -> None:
    book = str(EXAMPLES / "shop.yaml")  # its YAML says author: cx-team@shop.example
    for person, scope in (("alice", "approver"), ("dpo@shop.example", "approver"), ("eve", "read")):
        made = runner.invoke(app, ["keys", "create", person, "--scope", scope])
        assert made.exit_code == 0, made.output
    sub = runner.invoke(app, ["governance", "submit", book, "--actor", "alice"])
    assert sub.exit_code == 0 and json.loads(sub.stdout)["submitted_by"] == "alice"
    # the submitter holds the approver role, and still cannot approve their own submission
    own = runner.invoke(app, ["governance", "approve", book, "--actor", "Alice"])
    assert own.exit_code == 2 and "cannot approve" in own.output
    # an actor without the approver role cannot approve, nor can the YAML's claimed author
    for outsider in ("eve", "cx-team@shop.example"):
        no_role = runner.invoke(app, ["governance", "approve", book, "--actor", outsider])
        assert no_role.exit_code == 2 and "approver role" in no_role.output
    ok = runner.invoke(app, ["governance", "approve", book, "--approver", "dpo@shop.example"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["approved_by"] == "dpo@shop.example"
    store = Store(db)
    entries = {e["action"]: e for e in AuditLog(store).entries()}
    store.close()
    assert entries["playbook_submitted"]["actor"] == "alice"
    assert entries["playbook_approved"]["actor"] == "dpo@shop.example"
    assert entries["playbook_approved"]["data"]["submitted_by"] == "alice"
    report = runner.invoke(app, ["governance", "report", "--format", "json"])
    pb = json.loads(report.stdout)["dpia"]["playbooks"][0]
    assert pb["active"] is True and pb["approved_by"] == "dpo@shop.example"


def test_eval_pii_prints_one_json_object(tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    data.write_text(
        json.dumps(
            {
                "locale": "en",
                "text": "mail x@example.com",
                "entities": [{"type": "EMAIL", "start": 5, "end": 18}],
            }
        )
        + "\n"
    )
    r = runner.invoke(app, ["eval", "pii", "--data", str(data), "--json"])
    assert r.exit_code == 0
    result = json.loads(r.stdout)
    assert result["per_type"]["EMAIL"]["recall"] == 1.0 and result["examples"] == 1
    assert runner.invoke(app, ["eval", "pii", "--data", "nope.jsonl"]).exit_code == 2


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
@pytest.mark.parametrize("key", [None, "change-me-attune-dev-key", "short"])
def test_serve_and_worker_refuse_the_placeholder_pseudonym_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], key: str | None
) -> None:
    monkeypatch.setenv("ATTUNE_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    if key is None:
        monkeypatch.delenv("ATTUNE_PSEUDONYM_KEY", raising=False)  # the shipped default
    else:
        monkeypatch.setenv("ATTUNE_PSEUDONYM_KEY", key)
    r = runner.invoke(app, command)
    assert r.exit_code == 2
    line = r.output.strip()
    assert "\n" not in line and line.startswith("error: ATTUNE_PSEUDONYM_KEY")
    assert "secrets.token_hex(32)" in line
    assert not (tmp_path / "k.db").exists()  # refused before anything was opened


def test_a_generated_key_passes_the_check() -> None:
    import secrets

    from attune.privacy.pseudonym import key_problem

    assert key_problem(secrets.token_hex(32)) is None

"""Feedback-suggested thresholds become a proposed playbook version: submitted for review,
inactive and not installable until someone other than its author approves it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.measure.quality import Judgement
from attune.measure.tuning import install, propose, suggest
from attune.policy.approval import Governance, GovernanceError
from attune.policy.loader import EXAMPLES, load_playbook
from attune.privacy.audit import AuditLog
from attune.storage.store import Store


def _judgements() -> list[Judgement]:
    """'frustrated' is right only at high confidence; 'confused' has too little feedback."""
    rng = random.Random(5)
    out = []
    for _ in range(400):
        conf = rng.uniform(0.3, 1.0)
        out.append(Judgement("frustrated", correct=conf > 0.7, confidence=conf))
    out += [Judgement("confused", correct=True, confidence=0.9) for _ in range(3)]
    return out


def test_suggestions_per_state_and_a_proposal_that_waits_for_approval(tmp_path: Path) -> None:
    shop = load_playbook(EXAMPLES / "shop.yaml")
    rows = suggest(_judgements(), shop, target_precision=0.9, min_support=20)
    fr = [r for r in rows if r["state"] == "frustrated"]
    assert fr and all(0.6 < r["suggested"]["enter"] < 0.8 for r in fr)
    assert all(r["suggested"]["exit"] < r["suggested"]["enter"] for r in fr)
    conf = [r for r in rows if r["state"] == "confused"]
    assert conf and all(r["suggested"] is None for r in conf)  # 3 judgements: not enough

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    gov = Governance(store, AuditLog(store))
    result = propose(shop, rows, tmp_path / "proposals", gov, "analyst@shop.example")
    path = Path(result["proposal"])
    new = load_playbook(path)
    assert new.playbook.version.endswith("-tuned.1") and result["replaces"] == shop.playbook.key
    assert not gov.is_active(new)  # submitted, not approved: it does not run
    live = tmp_path / "live"
    live.mkdir()
    (live / "shop.yaml").write_text((EXAMPLES / "shop.yaml").read_text())
    with pytest.raises(GovernanceError, match="not approved"):
        install(path, live, gov)
    with pytest.raises(GovernanceError, match="cannot approve"):
        gov.approve(new, "analyst@shop.example", has_role=True)  # four eyes: not the submitter
    with pytest.raises(GovernanceError, match="approver role"):
        gov.approve(new, "reviewer@shop.example", has_role=False)
    gov.approve(new, "reviewer@shop.example", has_role=True)
    done = install(path, live, gov)
    assert done["replaced"] == ["shop.yaml"] and (live / path.name).exists()
    installed = load_playbook(live / path.name)
    assert gov.is_active(installed)  # the same approved text
    watch = installed.playbook.moments["checkout"].watch
    assert any(w.state == "frustrated" and w.enter == fr[0]["suggested"]["enter"] for w in watch)


def test_cli_propose_dry_run_and_a_clean_refusal(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(f"sqlite:///{db}").close()
    runner = CliRunner()
    r = runner.invoke(
        app, ["tune", "propose", str(EXAMPLES / "shop.yaml"), "--dry-run", "--db", str(db)]
    )
    assert r.exit_code == 0, r.output
    assert all(s["suggested"] is None for s in json.loads(r.stdout)["suggestions"])
    r = runner.invoke(app, ["tune", "install", "nope.yaml", "--to", str(tmp_path / "x")])
    assert r.exit_code != 0 and "no playbook folder" in r.output

"""Playbook governance: inactive until approved by someone other than the author, an edit
needs a new approval, every step is audited; extra red lines; the report is drafted from the
live configuration."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import wire

from attune.config import Settings
from attune.engine import Engine
from attune.events.schemas import PageView, Track
from attune.policy.approval import Governance, GovernanceError
from attune.policy.loader import EXAMPLES, load_dir, load_playbook
from attune.policy.processing_record import draft, to_markdown
from attune.policy.redlines import check
from attune.policy.schema import Playbook
from attune.signals.behaviour.analyzer import BehaviourAnalyzer
from attune.storage.store import Store

T0 = 1_767_000_000.0


@pytest.fixture
def books(tmp_path: Path) -> Path:
    target = tmp_path / "playbooks"
    shutil.copytree(EXAMPLES, target)
    return target


def _frustrate(engine: Engine) -> str:
    ids = {"anonymousId": "v", "sessionId": "s"}
    engine.ingest(
        PageView.model_validate(
            {"messageId": "p", "timestamp": T0, "properties": {"path": "/checkout/pay"}, **ids}
        )
    )
    decision = None
    for i in range(8):
        decision = engine.ingest(
            Track.model_validate(
                {
                    "messageId": f"c{i}",
                    "timestamp": T0 + 1 + 0.2 * i,
                    "event": "click",
                    "properties": {"selector": "#pay", "x": 1, "y": 1},
                    **ids,
                }
            )
        )
    assert decision is not None
    return decision.mode


def _wire(store: Store, books: Path) -> Any:
    settings = Settings(
        database_url=store.url, pseudonym_key="k", modalities=[], playbook_dir=books
    )
    return wire(settings, store, analyzers={"behaviour": BehaviourAnalyzer()}, approvals=True)


def test_playbook_runs_only_after_a_second_person_approves(tmp_path: Path, books: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    svc = _wire(store, books)
    assert _frustrate(svc.engine) == "standard"  # nothing approved: the standard journey
    gov = svc.governance
    (lp,) = load_dir(books)
    assert lp.playbook.author == "cx-team@shop.example"  # what the YAML claims
    gov.submit(lp, actor="alice@shop.example")
    with pytest.raises(GovernanceError, match="cannot approve"):
        gov.approve(lp, "Alice@shop.example ", has_role=True)  # the submitter, however spelled
    with pytest.raises(GovernanceError, match="approver role"):
        gov.approve(lp, "bob@shop.example", has_role=False)
    assert not gov.is_active(lp)
    gov.approve(lp, "dpo@shop.example", has_role=True)
    svc2 = _wire(store, books)
    assert _frustrate(svc2.engine) == "fast_track"
    entries = {e["action"]: e for e in svc2.audit.entries()}
    submitted, approved = entries["playbook_submitted"], entries["playbook_approved"]
    assert submitted["actor"] == "alice@shop.example"
    assert submitted["data"]["yaml_author"] == "cx-team@shop.example"
    assert approved["actor"] == "dpo@shop.example"
    assert approved["data"]["submitted_by"] == "alice@shop.example"
    # an edit of the approved text deactivates it until a new version is approved
    path = books / "shop.yaml"
    path.write_text(path.read_text().replace("Onboarding, checkout", "Onboarding and checkout"))
    (edited,) = load_dir(books)
    assert not gov.is_active(edited)
    with pytest.raises(GovernanceError, match="new version"):
        gov.submit(edited, actor="cx-team@shop.example")
    store.close()


def _pb(**moment: object) -> Playbook:
    base = {"description": "", "watch": []}
    return Playbook.model_validate(
        {"playbook": "p", "version": "1", "author": "a", "moments": {"m": {**base, **moment}}}
    )


def test_extra_red_lines() -> None:
    staff = check(_pb(match={"paths": ["/intranet/*"]}))
    assert [v.rule for v in staff] == ["R3 no use on employees"]
    debt = check(_pb(description="Payment arrears and debt collection"))
    assert [v.rule for v in debt] == ["R4 vulnerable contexts need a human"]
    assert check(_pb(description="debt help", vulnerable=True, human_in_loop=True)) == []
    hidden = check(
        _pb(
            watch=[
                {
                    "state": "confused",
                    "enter": 0.5,
                    "exit": 0.3,
                    "adapt": {"mode": "guided", "actions": ["skip_disclosure"]},
                }
            ]
        )
    )
    assert [v.rule for v in hidden] == ["R5 no processing without disclosure"]


def test_report_is_drafted_from_the_live_configuration(tmp_path: Path) -> None:
    settings = Settings(
        database_url="sqlite://",
        modalities=["behaviour", "text", "voice"],
        legal_basis={
            "behaviour": "legitimate_interest",
            "text": "consent",
            "voice": "legitimate_interest",
            "face": "consent",
        },
    )
    settings.retention.text_s = 1800
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    report = draft(settings, [load_playbook(EXAMPLES / "shop.yaml")], Governance(store))
    rop = report["record_of_processing"]
    assert rop["legal_basis_per_modality"] == {
        "behaviour": "legitimate_interest",
        "text": "consent",
        "voice": "consent (always opt-in)",
    }
    assert next(r for r in rop["retention"] if r["data_class"] == "message text")["ttl_s"] == 1800
    (pb,) = report["dpia"]["playbooks"]
    assert pb["active"] is False and pb["red_line_violations"] == []
    md = to_markdown(report)
    assert "| message text | 30 min |" in md and "INACTIVE" in md and "# DPIA skeleton" in md
    store.close()

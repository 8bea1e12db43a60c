"""What a person reads: evidence without "0.0 s" or invented selectors, ``changed`` only when
what the customer sees changes, one-line messages for the options people get wrong, help
paragraphs that are not broken mid-sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from attune.api.app import create_app
from attune.cli import app
from attune.config import Settings
from attune.events.admitted import GatedEvent
from attune.events.schemas import Track
from attune.signals.base import SessionScratch
from attune.signals.behaviour.analyzer import BehaviourAnalyzer

T0 = 1_767_000_000.0


def _track(analyzer: BehaviourAnalyzer, scratch: SessionScratch, at: float, **props: Any) -> Any:
    event = Track(messageId="x", anonymousId="a", event=props.pop("event"), properties=props)
    return analyzer.analyze(GatedEvent("behaviour", "e", "s", "s1", at, None, None, event), scratch)


def test_evidence_reads_well() -> None:
    analyzer, scratch = BehaviourAnalyzer(), SessionScratch()
    out = []
    for _ in range(3):  # stamped in one batch: the same time
        out += _track(analyzer, scratch, T0, event="click", selector="#pay", x=1, y=1)
    rage = [s for s in out if s.name == "rage_click"]
    assert rage and rage[0].evidence == "3 clicks in under 0.1 s on #pay"
    hover = _track(
        analyzer, scratch, T0 + 5, event="hover", selector="#total", price=True, duration_ms=2500
    )
    assert [s.evidence for s in hover] == ["lingered 2.5 s over #total"]


def test_changed_only_when_the_customer_sees_a_change(settings: Settings) -> None:
    application = create_app(settings)
    key = application.state.keys.create("k", ["admin"])
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(application) as client:
        flags = []
        for i in range(4):
            page = {
                "messageId": f"p{i}",
                "anonymousId": "v",
                "sessionId": "c1",
                "timestamp": T0 + 10 * i,
                "properties": {"path": "/checkout"},
            }
            flags.append(client.post("/v1/page", json=page, headers=auth).json()["decision"])
    assert [d["changed"] for d in flags] == [True, False, False, False]
    assert {d["mode"] for d in flags} == {"standard"}


def test_a_new_reason_for_the_same_journey_is_not_a_change() -> None:
    from attune.policy.loader import load_dir
    from attune.policy.rules import Policy, PolicyState
    from attune.state.fusion import EmotionalState

    policy, ps = Policy(load_dir(None)), PolicyState()
    ps.moment = "checkout"
    state = EmotionalState({"neutral": 1.0}, "neutral", 0.0, 0.9, False, None, [], T0)
    lp = policy.playbooks[0]
    first = policy._standard(ps, state, "s", "adaptive", T0, "calm", True, lp)
    again = policy._standard(ps, state, "s", "adaptive", T0 + 1, "uncertain", True, lp)
    assert first.changed is True and again.changed is False
    assert again.explanation != "" and again.mode == "standard"
    fewer = policy._standard(ps, state, "s", "adaptive", T0 + 2, "uncertain", False, lp)
    assert fewer.changed is True  # offers paused: the customer sees that


def test_help_paragraphs_are_not_broken() -> None:
    def walk(command: Any) -> Any:
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    for command in walk(typer.main.get_command(app)):
        for paragraph in (command.help or "").split("\n\n"):
            assert "\n" not in paragraph.strip(), (command.name, paragraph)


def test_options_people_get_wrong(tmp_path: Path) -> None:
    from attune.storage import tables_measure
    from attune.storage.store import Store

    db = tmp_path / "m.db"
    store = Store(f"sqlite:///{db}")
    with store.begin() as conn:
        conn.execute(
            tables_measure.experiment_exposures.insert().values(
                experiment_id="real", subject="s", arm="control", session_id="x", at=T0
            )
        )
    store.close()
    run = CliRunner().invoke
    r = run(app, ["report", "kpis", "--db", str(db), "--format", "html"])
    assert r.exit_code == 2 and "JSON only" in r.output
    r = run(app, ["report", "kpis", "--db", str(db), "--by", "foo"])
    assert r.exit_code == 2 and "unknown --by field(s) foo" in r.output
    r = run(
        app,
        [
            "roi",
            "--units-per-period",
            "10",
            "--value-per-unit",
            "5",
            "--experiment",
            "nope",
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 2 and "no experiment 'nope'" in r.output and "real" in r.output
    secret = "a-real-secret-for-this-test-0123456789abcdef"
    r = run(app, ["worker"], env={"ATTUNE_TRANSPORT": "inprocess", "ATTUNE_PSEUDONYM_KEY": secret})
    assert r.exit_code == 2 and "ATTUNE_TRANSPORT=nats" in r.output
    r = run(app, ["eval", "pii", "--data", str(tmp_path / "none.jsonl")])
    assert r.exit_code == 2 and "does not exist" in r.output

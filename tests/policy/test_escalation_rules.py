"""Escalation rules that hold, on the shipped example playbook: an explicit request for a
person escalates on a human channel whatever the state or arm; an escalation survives page
views, cooler states, hysteresis and cooldown until it is released; a low-confidence intent
never moves a session into another moment (the "Get me a human NOW" chat that landed in the
cancellation moment)."""

from __future__ import annotations

import pytest

from attune.policy.loader import load_dir
from attune.policy.rules import IntentSeen, Policy, PolicyState
from attune.signals.taxonomy import CX_STATES
from attune.state.fusion import EmotionalState


def calm(top: str = "neutral", p: float = 0.6, uncertain: bool = False) -> EmotionalState:
    rest = (1 - p) / (len(CX_STATES) - 1)
    probs = {s: (p if s == top else rest) for s in CX_STATES}
    return EmotionalState(probs, top, p, 0.8, uncertain, None, [], 0)


@pytest.fixture
def policy() -> Policy:
    return Policy(load_dir())


def test_a_low_confidence_intent_does_not_move_the_moment(policy: Policy) -> None:
    ps = PolicyState()
    assert policy.resolve_moment(ps, None, None, "chat", []) == "support"
    # "Get me a human NOW, I am done..." once read as cancel at 0.34: evidence only
    assert (
        policy.resolve_moment(
            ps, None, None, "chat", [IntentSeen("cancel", 0.34, "customer_service")]
        )
        == "support"
    )
    assert not policy.note_request(ps, [IntentSeen("cancel", 0.34)], "chat", 1)
    # "I talked to my friend about it" reads human at 0.50: not yet a request for a person
    assert not policy.note_request(ps, [IntentSeen("human", 0.5, "customer_service")], "chat", 1)
    # a confident one may
    assert (
        policy.resolve_moment(ps, None, None, "chat", [IntentSeen("cancel", 0.9, "x")])
        == "cancellation"
    )


@pytest.mark.parametrize("arm", ["adaptive", "control"])
def test_a_request_for_a_person_escalates_whatever_the_state_and_arm(
    policy: Policy, arm: str
) -> None:
    ps = PolicyState(moment="support")
    assert policy.note_request(ps, [IntentSeen("human", 0.98, "customer_service")], "chat", 5)
    d = policy.decide(ps, calm("satisfied"), "s", arm, "de-DE", 5)
    assert d.escalate and d.mode == "escalate_to_human" and d.offers_allowed is False
    assert d.escalation is not None and d.escalation["reason"] == "requested"
    assert d.content["support.handoff"].startswith("Ich hole")
    assert d.explanation.startswith("Sie möchten mit einem Menschen sprechen")
    ps = PolicyState(moment="support")
    assert policy.note_request(ps, [IntentSeen("human", 0.98, "customer_service")], "chat", 5)
    d = policy.decide(ps, calm("satisfied"), "s", arm, "fr-FR", 5)
    assert "asked to speak with a person" in d.explanation
    assert "Shown in English: no text for locale 'fr-FR'" in d.explanation


def test_no_human_channel_no_escalation(policy: Policy) -> None:
    ps = PolicyState(moment="support")
    assert not policy.note_request(ps, [IntentSeen("human", 0.99)], "kiosk", 0)
    assert not policy.decide(ps, calm(), "s", "adaptive", None, 0).escalate


def test_an_escalation_is_sticky_until_released(policy: Policy) -> None:
    ps = PolicyState()
    policy.resolve_moment(ps, None, None, "chat", [])
    frustrated = calm("frustrated", 0.7)
    first = policy.decide(ps, frustrated, "s", "adaptive", None, 0)
    assert first.escalate and first.escalation["reason"] == "frustrated"  # type: ignore[index]
    # a page view elsewhere, a calm state long after dwell and cooldown: still escalated
    policy.resolve_moment(ps, None, "/checkout/pay", "chat", [])
    for t in (40, 100, 400):
        d = policy.decide(ps, calm(), "s", "adaptive", None, t)
        assert d.escalate and d.id == first.id and not d.changed
    assert policy.release(ps, "declined", 500)
    after = policy.decide(ps, calm(), "s", "adaptive", None, 501)
    assert not after.escalate and after.mode == "standard"


def test_intent_thresholds_must_be_probabilities(tmp_path: object) -> None:
    from pydantic import ValidationError

    from attune.policy.schema import Playbook

    with pytest.raises(ValidationError, match="intent thresholds"):
        Playbook(playbook="p", version="1", author="a", intent_thresholds={"x": 2}, moments={})

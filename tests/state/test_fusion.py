"""Fusion properties (hypothesis) and behaviour on hand-made evidence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from attune.signals.base import Signal
from attune.signals.taxonomy import CX_STATES, to_cx
from attune.state.fusion import Fusion, FusionState

MODS = ("behaviour", "text", "voice", "face", "newsensor")


def sig(
    modality: str,
    state: str,
    value: float = 0.8,
    conf: float = 0.9,
    at: float = 0.0,
    cx: dict[str, float] | None = None,
) -> Signal:
    return Signal(
        modality, f"{state}-sig", value, conf, f"evidence for {state}", at, cx or {state: 1.0}
    )


signal_st = st.builds(
    sig,
    modality=st.sampled_from(MODS),
    state=st.sampled_from(CX_STATES),
    value=st.floats(0, 1),
    conf=st.floats(0, 1),
    at=st.floats(0, 100),
)


@given(st.lists(signal_st, max_size=30))
def test_probabilities_are_a_distribution(signals: list[Signal]) -> None:
    fs = FusionState()
    state = Fusion().update(fs, signals, 100.0)
    assert set(state.probs) == set(CX_STATES)
    assert abs(sum(state.probs.values()) - 1) < 1e-9
    assert all(0 <= p <= 1 for p in state.probs.values())
    assert 0 <= state.confidence <= 1 and 0 <= state.intensity <= 1
    assert len(state.moved_by) <= 5


@given(st.lists(signal_st, max_size=20), st.sampled_from(CX_STATES[:-1]))
def test_more_evidence_for_a_state_never_lowers_it(signals: list[Signal], target: str) -> None:
    fusion = Fusion()
    base = fusion.update(FusionState(), signals, 100.0)
    more = fusion.update(FusionState(), [*signals, sig("text", target, at=100.0)], 100.0)
    assert more.probs[target] >= base.probs[target] - 1e-12


@given(
    st.permutations(
        [
            sig("behaviour", "frustrated"),
            sig("text", "confused"),
            sig("voice", "anxious"),
            sig("face", "satisfied"),
        ]
    )
)
def test_order_of_simultaneous_signals_does_not_matter(signals: list[Signal]) -> None:
    ref = Fusion().update(FusionState(), sorted(signals, key=lambda s: s.modality), 0.0)
    got = Fusion().update(FusionState(), signals, 0.0)
    for s in CX_STATES:
        assert abs(ref.probs[s] - got.probs[s]) < 1e-12


@settings(max_examples=50)
@given(st.lists(signal_st, min_size=1, max_size=20))
def test_evidence_decays_back_to_neutral(signals: list[Signal]) -> None:
    fusion = Fusion()
    fs = FusionState()
    fusion.update(fs, signals, 100.0)
    later = fusion.read(fs, 100.0 + 24 * 3600)
    assert later.top == "neutral"
    assert later.uncertain  # nothing left to go on


def test_no_signals_is_uncertain_neutral() -> None:
    state = Fusion().update(FusionState(), [], 0.0)
    assert state.top == "neutral" and state.uncertain and state.uncertain_reason == "thin evidence"


def test_clear_evidence_names_the_state_and_what_moved_it() -> None:
    state = Fusion().update(
        FusionState(), [sig("behaviour", "frustrated"), sig("text", "frustrated")], 0.0
    )
    assert state.top == "frustrated" and not state.uncertain
    assert {m["modality"] for m in state.moved_by} == {"behaviour", "text"}


def test_conflicting_modalities_are_uncertain() -> None:
    state = Fusion().update(
        FusionState(), [sig("text", "satisfied", 1, 1), sig("voice", "frustrated", 1, 1)], 0.0
    )
    assert state.uncertain and "disagree" in (state.uncertain_reason or "")


def test_a_new_modality_plugs_in_without_changing_fusion() -> None:
    probs = {"anger": 0.7, "neutral": 0.3}
    cx = to_cx(probs, {"anger": {"frustrated": 1.0}, "neutral": {"neutral": 1.0}})
    state = Fusion().update(FusionState(), [sig("thermal-camera", "x", 1, 1, cx=cx)], 0.0)
    assert state.probs["frustrated"] > 0.3


def test_reliability_weights_sources() -> None:
    fusion = Fusion()
    text = fusion.update(FusionState(), [sig("text", "confused")], 0.0)
    face = fusion.update(FusionState(), [sig("face", "confused")], 0.0)
    assert text.probs["confused"] > face.probs["confused"]

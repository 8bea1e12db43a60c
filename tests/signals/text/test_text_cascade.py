"""The banking pack's cascade: the quick stage (a head on the shared encoder's features + the
TF-IDF member) answers alone when sure; the pack's own encoder reads only the other messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from attune.signals.text.cascade import Cascade
from attune.signals.text.probs import softmax


def test_the_full_ensemble_reads_only_the_rows_the_quick_stage_is_unsure_of() -> None:
    head = {
        "mean": np.zeros(2, np.float32),
        "scale": np.ones(2, np.float32),
        "w1": np.eye(2, dtype=np.float32),
        "b1": np.zeros(2, np.float32),
    }
    cascade = Cascade(head, weight=1.0, temperature=1.0, threshold=0.9)
    shared = np.array([[5.0, 0.0], [0.1, 0.0], [0.0, 4.0]], np.float32)  # sure, unsure, sure
    peer = np.full((3, 2), 0.5, np.float32)
    asked: list[list[int]] = []

    def full(rows: np.ndarray) -> np.ndarray:
        asked.append(rows.tolist())
        return np.tile([0.0, 1.0], (len(rows), 1))

    probs, second = cascade.run(shared, peer, full)
    assert asked == [[1]] and second.tolist() == [False, True, False]
    assert probs[1].tolist() == [0.0, 1.0]  # the full ensemble's answer
    np.testing.assert_allclose(probs[[0, 2]], softmax(shared[[0, 2]]))
    cascade.run(shared[[0, 2]], peer[[0, 2]], full)
    assert asked == [[1]]  # all sure: no second pass at all


@pytest.fixture(scope="module")
def banking() -> Any:
    from attune.signals.text.models import load_models

    return load_models(("banking",))


class _Counting:
    """Wraps the pack's own encoder and records the texts it reads."""

    def __init__(self, encoder: Any) -> None:
        self.encoder, self.read = encoder, []

    def features(self, texts: list[str], **kw: Any) -> Any:
        self.read.extend(texts)
        return self.encoder.features(texts, **kw)


def test_the_shipped_banking_pack_skips_its_encoder_for_clear_requests(
    banking: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attune.signals.text.reading import read_texts

    pack = banking.packs["banking"]
    assert pack.cascade is not None and 0.5 <= pack.cascade.threshold < 1.0
    own = _Counting(banking.own_encoders["text-encoder-banking"])
    monkeypatch.setitem(banking.own_encoders, "text-encoder-banking", own)
    clear = "I was charged twice for the same thing"
    vague = "thanks, that fixed it"  # nothing a banking intent is sure of
    readings = read_texts(banking, [clear, vague], route=False)
    assert own.read == [vague]
    assert readings[0].intent == "transaction_charged_twice"
    assert readings[0].intent_conf >= pack.cascade.threshold > readings[1].intent_conf
    # the quick stage's answer is what the clear message gets
    shared = banking.encoder.features([clear])
    quick = pack.cascade.quick(shared, pack.peer_probs([clear]))
    assert readings[0].intent_conf == pytest.approx(float(quick.max()), abs=1e-6)
    # the unsure message gets the full ensemble of its own encoder + TF-IDF, as without cascade
    full = pack.probs(own.encoder.features([vague]), [vague])
    assert readings[1].intent_conf == pytest.approx(float(full.max()), abs=1e-6)


def _settled(speculation: Any) -> None:
    """Wait for an early pass still in flight."""
    assert speculation._BUSY.acquire(timeout=10)
    speculation._BUSY.release()


def test_where_the_peer_rules_out_a_sure_quick_stage_it_is_never_sure() -> None:
    rng = np.random.default_rng(5)
    head = {
        "mean": np.zeros(4, np.float32),
        "scale": np.ones(4, np.float32),
        "w1": rng.normal(size=(4, 5)).astype(np.float32) * 4,
        "b1": np.zeros(5, np.float32),
    }
    cascade = Cascade(head, weight=0.5, temperature=1.0, threshold=0.92)
    shared = rng.normal(size=(2000, 4)).astype(np.float32) * 3
    peer = softmax(rng.normal(size=(2000, 5)) * rng.uniform(0.1, 6, (2000, 1)))
    ruled_out = cascade.cannot_be_sure(peer)
    sure = cascade.quick(shared, peer).max(axis=1) >= cascade.threshold
    assert 0.1 < ruled_out.mean() < 0.9 and sure.any()
    assert not (ruled_out & sure).any()


def test_a_live_message_that_needs_the_pack_pass_starts_it_early_and_reads_the_same(
    banking: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message the quick stage cannot be sure of starts the pack's own pass beside the
    shared one; a clear request never does (no wasted pass); both read as sequentially."""
    from attune.signals.text import speculation
    from attune.signals.text.reading import read_texts

    pack = banking.packs["banking"]
    own = _Counting(banking.own_encoders["text-encoder-banking"])
    monkeypatch.setitem(banking.own_encoders, "text-encoder-banking", own)
    vague, clear = "thanks, that fixed it", "I was charged twice for the same thing"
    assert pack.cascade.cannot_be_sure(pack.peer_probs([vague])).all()
    assert not pack.cascade.cannot_be_sure(pack.peer_probs([clear])).any()
    for text, early_start in ((vague, True), (clear, False)):
        with speculation.forced(False):
            before = speculation.STARTED["passes"]
            sequential = read_texts(banking, [text], route=False)[0]
            assert speculation.STARTED["passes"] == before
        _settled(speculation)
        own.read.clear()
        with speculation.forced(True):
            early = read_texts(banking, [text], route=False)[0]
        assert speculation.STARTED["passes"] == before + early_start
        assert (early.intent, early.emotions) == (sequential.intent, sequential.emotions)
        assert early.intent_conf == pytest.approx(sequential.intent_conf, abs=1e-6)
        assert own.read == ([text] if early_start else [])


def test_no_early_pass_when_off_or_another_one_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from attune.signals.text import speculation

    def feats(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 2))

    with speculation.forced(True):
        started = speculation.start(feats, ["a"])
        assert started is not None and started.result().tolist() == [[1.0, 1.0]]
        _settled(speculation)
        assert speculation._BUSY.acquire(blocking=False)  # another early pass still running
        try:
            assert speculation.start(feats, ["a"]) is None
        finally:
            speculation._BUSY.release()
    with speculation.forced(False):
        assert speculation.start(feats, ["a"]) is None
    monkeypatch.setenv(speculation.ENV, "0")
    assert speculation.start(feats, ["a"]) is None

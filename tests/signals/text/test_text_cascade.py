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
    """Wait for an early pass still in flight (one where the quick stage was sure)."""
    assert speculation._BUSY.acquire(timeout=10)
    speculation._BUSY.release()


def test_a_live_message_starts_the_pack_pass_early_and_reads_the_same(
    banking: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a core idle, one message's own-encoder pass starts beside the shared pass; the
    reading is the one the sequential path gives, for an unsure and for a clear message."""
    from attune.signals.text import speculation
    from attune.signals.text.reading import read_texts

    own = _Counting(banking.own_encoders["text-encoder-banking"])
    monkeypatch.setitem(banking.own_encoders, "text-encoder-banking", own)
    monkeypatch.setattr(speculation, "idle_core", lambda: True)
    for text in ("thanks, that fixed it", "I was charged twice for the same thing"):
        with speculation.forced(False):
            before = speculation.STARTED["passes"]
            sequential = read_texts(banking, [text], route=False)[0]
            assert speculation.STARTED["passes"] == before
        _settled(speculation)
        with speculation.forced(True):
            own.read.clear()
            early = read_texts(banking, [text], route=False)[0]
            assert speculation.STARTED["passes"] == before + 1
        assert (early.intent, early.emotions) == (sequential.intent, sequential.emotions)
        assert early.intent_conf == pytest.approx(sequential.intent_conf, abs=1e-6)
        _settled(speculation)
        assert own.read == [text]  # started early even where the quick stage was sure


def test_no_early_pass_when_off_batched_busy_or_without_an_idle_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from attune.signals.text import speculation

    def feats(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 2))

    monkeypatch.setattr(speculation, "idle_core", lambda: True)
    with speculation.forced(True):
        assert speculation.start(feats, ["a", "b"]) is None  # a batch keeps the cores busy
        started = speculation.start(feats, ["a"])
        assert started is not None and started.result().tolist() == [[1.0, 1.0]]
        _settled(speculation)
    with speculation.forced(False):
        assert speculation.start(feats, ["a"]) is None
    monkeypatch.setenv(speculation.ENV, "0")
    assert speculation.start(feats, ["a"]) is None
    monkeypatch.delenv(speculation.ENV)
    monkeypatch.setattr(speculation, "idle_core", lambda: False)
    assert speculation.start(feats, ["a"]) is None
    monkeypatch.setattr(speculation, "idle_core", lambda: True)
    assert speculation._BUSY.acquire(blocking=False)  # another early pass still running
    try:
        assert speculation.start(feats, ["a"]) is None
    finally:
        speculation._BUSY.release()


@pytest.mark.parametrize(
    ("cores", "load", "idle"), [(2, 1.6, True), (2, 2.4, False), (1, 0.1, False), (8, 7.9, True)]
)
def test_the_early_pass_waits_for_a_machine_that_is_not_saturated(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, idle: bool
) -> None:
    from attune.signals.text import speculation

    monkeypatch.setattr(speculation.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(speculation.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setitem(speculation._LOAD, "at", -1e9)  # read the load again now
    assert speculation.idle_core() is idle

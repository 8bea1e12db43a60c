"""The TF-IDF vectorizers survive the ONNX export (the run-time path) close to sklearn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from attune_training.text_tfidf import TfidfFeatures, export_vectorizer, fit_vectorizer

TEXTS = [
    "I want to cancel my order",
    "where is my refund??",
    "Thank you so much, great service",
    "this is ridiculous, nobody answers",
    "how do I change my address",
    "my card was declined twice",
] * 10


def test_word_and_char_vectorizers_match_sklearn_after_export(tmp_path: Path) -> None:
    vecs = [fit_vectorizer(TEXTS, "word"), fit_vectorizer(TEXTS, "char")]
    files = [tmp_path / "w.onnx", tmp_path / "c.onnx"]
    for vec, file in zip(vecs, files, strict=True):
        export_vectorizer(vec, file)
    probe = ["I want to CANCEL my order now", "Where is my refund?", "unseen words only"]
    got = TfidfFeatures(files).transform(probe)
    want = sp.hstack([v.transform(probe) for v in vecs]).toarray()
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 0.05  # char tokenization differs very slightly
    word_cols = len(vecs[0].vocabulary_)
    np.testing.assert_allclose(got[:, :word_cols], want[:, :word_cols], atol=1e-5)


def test_sparse_mirror_matches_the_graph_text_by_text(tmp_path: Path) -> None:
    """Run time reads each graph's n-gram table instead of running it: same features as
    onnxruntime on one text at a time (newlines, case, non-ASCII included), no batch effects."""
    from attune.signals.text.encoder import session
    from attune_training.text_tfidf import export_vocab, vocab_file

    train = [*TEXTS, "thank you\nso much", "İstanbul straße café", "a\r\nb  c\td"]
    vecs = [fit_vectorizer(train, "word"), fit_vectorizer(train, "char")]
    files = [tmp_path / "w.onnx", tmp_path / "c.onnx"]
    for vec, file in zip(vecs, files, strict=True):
        export_vectorizer(vec, file)
        export_vocab(file)
        assert vocab_file(file).is_file()
    probe = [
        "I want to CANCEL my order now",
        "thank\nyou so much",
        "Where is my refund?\r\n\r\nplease",
        "İSTANBUL Straße CAFÉ 😀",
        "",
        "   ",
    ]
    sessions = [session(f) for f in files]
    want = np.concatenate(
        [
            np.concatenate(
                [s.run(None, {"text": np.array([[t]], dtype=object)})[0] for s in sessions], 1
            )
            for t in probe
        ]
    )
    features = TfidfFeatures(files)
    got = features.transform(probe)
    np.testing.assert_allclose(got, want, atol=1e-6)
    w = np.random.default_rng(0).normal(size=(got.shape[1], 3)).astype(np.float32)
    b = np.ones(3, dtype=np.float32)
    for i, t in enumerate(probe):  # the one-text shortcut reads rows of w directly
        np.testing.assert_allclose(features.logits([t], w, b)[0], want[i] @ w + b, atol=1e-5)
    np.testing.assert_allclose(features.logits(probe, w, b), want @ w + b, atol=1e-5)

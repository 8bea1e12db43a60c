"""The TF-IDF vectorizers survive the ONNX export (the run-time path) close to sklearn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from attune.models.training.text_tfidf import TfidfFeatures, export_vectorizer, fit_vectorizer

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

"""TF-IDF word n-grams + logistic regression: the peer every text model is compared with, and
a cheap second member of the shipped ensembles.

The vectorizer is exported to ONNX with skl2onnx (with the StringNormalizer locale fix: this
machine has no en_US.UTF-8 locale); the linear head is stored as plain weights (npz), so run
time needs onnxruntime and numpy only.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

VECTORIZER_FILE = "tfidf.onnx"  # word 1-2-grams
CHAR_VECTORIZER_FILE = "tfidf_char.onnx"  # character 2-4-grams (optional)
VECTORIZER_FILES = (VECTORIZER_FILE, CHAR_VECTORIZER_FILE)
HEAD_FILE = "tfidf_head.npz"


def fit_vectorizer(texts: list[str], analyzer: str = "word") -> Any:
    """Word 1-2-grams (60k) or character 2-4-grams (80k; they catch spelling variants and
    word pieces: +3.5 macro-F1 points on GoEmotions dev). skl2onnx converts ``char`` but not
    ``char_wb``; its char tokenization differs slightly from sklearn's (|diff| < 0.02), which
    is why dev scores are always taken through the exported graph."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    small = max(1, len(texts) // 50)
    if analyzer == "char":
        vec = TfidfVectorizer(
            analyzer="char",
            ngram_range=(2, 4),
            sublinear_tf=True,
            min_df=min(3, small),
            max_features=80_000,
            dtype=np.float32,
        )
    else:
        vec = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=min(2, small),
            max_features=60_000,
            dtype=np.float32,
        )
    vec.fit(texts)
    return vec


def fit_linear(
    x: np.ndarray, y: np.ndarray, multi_label: bool, c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest (multi-label) or multinomial (single-label) logistic regression.
    Returns (coef (d, k), intercept (k,)) so that logits = x @ coef + intercept."""
    from sklearn.linear_model import LogisticRegression

    if multi_label:
        coefs, bias = [], []
        for j in range(y.shape[1]):
            col = y[:, j].astype(int)
            if col.min() == col.max():  # a label absent from train: never fires
                coefs.append(np.zeros(x.shape[1], dtype=np.float32))
                bias.append(-10.0 if col.max() == 0 else 10.0)
                continue
            lr = LogisticRegression(C=c, max_iter=1000, random_state=seed).fit(x, col)
            coefs.append(lr.coef_[0].astype(np.float32))
            bias.append(float(lr.intercept_[0]))
        return np.stack(coefs, axis=1), np.array(bias, dtype=np.float32)
    lr = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y)
    if len(lr.classes_) != int(y.max()) + 1:
        raise ValueError("every label needs at least one training row")
    return lr.coef_.T.astype(np.float32), lr.intercept_.astype(np.float32)


def export_vectorizer(vec: Any, path: Path) -> None:
    import onnx
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType

    with warnings.catch_warnings():
        # skl2onnx warns that char analyzers are not "fully supported": measured, the outputs
        # stay within 0.02 of sklearn's (tests/unit/test_text_tfidf.py), dev scores use ONNX
        warnings.filterwarnings("ignore", message="The conversion of CountVectorizer")
        model = to_onnx(vec, initial_types=[("text", StringTensorType([None, 1]))], target_opset=17)
    for node in model.graph.node:
        if node.op_type == "StringNormalizer":
            node.attribute.append(onnx.helper.make_attribute("locale", "C.UTF-8"))
    path.write_bytes(model.SerializeToString())


class TfidfFeatures:
    """Run-time TF-IDF: the exported vectorizer(s) in onnxruntime, outputs side by side."""

    def __init__(self, paths: list[Path], threads: int = 1) -> None:
        from attune.analysis.encoder import session

        self.sessions = [session(p, threads) for p in paths]

    def transform(self, texts: list[str], batch: int = 256) -> np.ndarray:
        parts = []
        for start in range(0, len(texts), batch):
            chunk = np.array([[t] for t in texts[start : start + batch]], dtype=object)
            outs = [s.run(None, {"text": chunk})[0].astype(np.float32) for s in self.sessions]
            parts.append(np.concatenate(outs, axis=1))
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def transform_sparse(self, texts: list[str], batch: int = 256) -> Any:
        """The same features as a scipy CSR matrix (for training on the exported graph)."""
        import scipy.sparse as sp

        parts = [
            sp.csr_matrix(self.transform(texts[i : i + batch], batch))
            for i in range(0, len(texts), batch)
        ]
        return sp.vstack(parts).tocsr()

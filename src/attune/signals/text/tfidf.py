"""TF-IDF features at run time, computed sparsely from each exported vectorizer's n-gram
table (``*.vocab.npz``). Training (``attune_training.text_tfidf``) fits and exports them."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

VECTORIZER_FILE = "tfidf.onnx"  # word 1-2-grams
CHAR_VECTORIZER_FILE = "tfidf_char.onnx"  # character 2-4-grams (optional)
VECTORIZER_FILES = (VECTORIZER_FILE, CHAR_VECTORIZER_FILE)
HEAD_FILE = "tfidf_head.npz"

VOCAB_SUFFIX = ".vocab.npz"  # beside each vectorizer graph: its n-grams, columns and idf


def vocab_file(graph: Path) -> Path:
    return graph.with_name(graph.name.removesuffix(".onnx") + VOCAB_SUFFIX)


class SparseVectorizer:
    """The exported vectorizer graph mirrored in Python: lower-case, tokens by the graph's
    regular expression, n-gram counts t, log(1 + t) x idf, L2 norm; outputs (col, value)s.

    One difference, on purpose: onnxruntime pads the token rows of a batch with '#', and
    those pads form n-grams ('e#', '##') in the char graph, so a text's features depended on
    the other texts of its batch. Here each text is vectorized on its own, as at run time."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            grams, index = data["grams"].tolist(), data["index"]
            self.idf = data["idf"].astype(np.float32)
            expr, lo, hi, minchars = data["config"].tolist()
        self.size = len(self.idf)
        self.vocab: dict[str, int] = dict(zip(grams, index.tolist(), strict=True))
        self.char = expr == "."
        self.lo, self.hi, self.minchars = int(lo), int(hi), int(minchars)
        self.token = re.compile(expr)

    def grams(self, text: str) -> tuple[str, ...]:
        return _grams(text, self.char, self.lo, self.hi, self.token.pattern, self.minchars)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of one text's non-zero features."""
        found = np.fromiter(map(self.vocab.get, self.grams(text), repeat(-1)), dtype=np.int32)
        cols, tf = np.unique(found[found >= 0], return_counts=True)
        vals = np.log1p(tf.astype(np.float32)) * self.idf[cols]
        norm = float(np.sqrt(np.dot(vals, vals)))
        return cols, (vals / norm if norm > 0 else vals)


@lru_cache(maxsize=256)
def _grams(text: str, char: bool, lo: int, hi: int, expr: str, minchars: int) -> tuple[str, ...]:
    """A text's n-grams as the graph forms them (cached: the emotion model and each intent
    pack share the same word and char settings, so a message is cut up once)."""
    # onnxruntime lower-cases code point by code point (Python maps U+0130 to two); its
    # char n-grams never span a newline, its word n-grams do
    low = text.replace("\u0130", "i").lower()
    out: list[str] = []
    if char:
        for line in low.split("\n"):
            size = len(line)
            out.extend(line[i : i + n] for n in range(lo, hi + 1) for i in range(size - n + 1))
        return tuple(out)
    toks = [t for t in re.findall(expr, low) if len(t) >= minchars]
    for n in range(lo, hi + 1):
        out.extend(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return tuple(out)


def forget_grams() -> None:
    """Empty the n-gram cache (the bench times every read as a new message)."""
    _grams.cache_clear()


class TfidfFeatures:
    """Run-time TF-IDF: the exported vectorizer(s), outputs side by side. Computed sparsely
    in Python from each graph's n-gram table (``*.vocab.npz``, written by training); graphs
    without a table run in onnxruntime, one text at a time (see :class:`SparseVectorizer`)."""

    def __init__(self, paths: list[Path], threads: int = 1) -> None:
        self.parts: list[Any] = []
        for p in paths:
            table = vocab_file(p)  # written by training; run time never writes a model folder
            if table.is_file():
                self.parts.append(SparseVectorizer(table))
            else:
                from attune.signals.text.encoder import session

                self.parts.append(session(p, threads))

    @property
    def size(self) -> int:
        return sum(self._size(p) for p in self.parts)

    @staticmethod
    def _size(part: Any) -> int:
        if isinstance(part, SparseVectorizer):
            return part.size
        return int(part.run(None, {"text": np.array([[""]], dtype=object)})[0].shape[1])

    def transform_sparse(self, texts: list[str], batch: int = 0) -> Any:
        """(n, features) scipy CSR matrix."""
        import scipy.sparse as sp

        del batch  # kept for callers; every text is vectorized on its own
        blocks = []
        for part in self.parts:
            if isinstance(part, SparseVectorizer):
                indptr, cols, vals = [0], [], []
                for t in texts:
                    c, v = part.row(t)
                    cols.append(c)
                    vals.append(v)
                    indptr.append(indptr[-1] + len(c))
                blocks.append(
                    sp.csr_matrix(
                        (
                            np.concatenate(vals) if vals else np.zeros(0, np.float32),
                            np.concatenate(cols) if cols else np.zeros(0, np.int32),
                            np.array(indptr),
                        ),
                        shape=(len(texts), part.size),
                        dtype=np.float32,
                    )
                )
            else:
                rows = [
                    sp.csr_matrix(part.run(None, {"text": np.array([[t]], dtype=object)})[0])
                    for t in texts
                ]
                blocks.append(sp.vstack(rows).tocsr().astype(np.float32))
        return sp.hstack(blocks).tocsr() if len(blocks) > 1 else blocks[0]

    def transform(self, texts: list[str], batch: int = 256) -> np.ndarray:
        """The same features, dense (tests and small inputs)."""
        return np.asarray(self.transform_sparse(texts).toarray(), dtype=np.float32)

    def logits(self, texts: list[str], w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``features @ w + b`` without building the feature rows: one message is a few
        hundred non-zeros, so this reads a few hundred rows of ``w``."""
        if len(texts) > 1 or not all(isinstance(p, SparseVectorizer) for p in self.parts):
            return np.asarray(self.transform_sparse(texts) @ w + b, dtype=np.float32)
        out = b.astype(np.float32).copy()
        offset = 0
        for part in self.parts:
            cols, vals = part.row(texts[0])
            if len(cols):
                out += vals @ w[cols + offset]
            offset += part.size
        return out[None, :]

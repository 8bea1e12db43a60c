"""Reading labelled text files (``text,labels``) with errors that name the row and column."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class DataError(ValueError):
    """A training or evaluation file that cannot be used as it is."""


@dataclass
class Labelled:
    texts: list[str]
    labels: list[list[str]]

    def __len__(self) -> int:
        return len(self.texts)

    def digest(self) -> str:
        return hashlib.sha1("\x00".join(self.texts).encode()).hexdigest()[:16]


def read_labelled(path: Path, multi_label: bool, known: list[str] | None = None) -> Labelled:
    """Rows of ``text,labels``; ``labels`` is ``;``-joined when ``multi_label``. Unknown label
    names (when ``known`` is given), empty texts or empty labels are reported with the row."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    known_set = set(known) if known is not None else None
    texts: list[str] = []
    labels: list[list[str]] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "labels"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(
                f"{path}: missing column(s) {', '.join(sorted(missing))} "
                f"(found: {', '.join(reader.fieldnames or []) or 'nothing'}); expected text,labels"
            )
        for row_no, row in enumerate(reader, start=2):  # row 1 is the header
            text = (row.get("text") or "").strip()
            raw = (row.get("labels") or "").strip()
            if not text:
                raise DataError(f"{path}: row {row_no}, column 'text' is empty")
            labs = [x.strip() for x in raw.split(";")] if multi_label else [raw]
            labs = [x for x in labs if x]
            if not labs:
                raise DataError(f"{path}: row {row_no}, column 'labels' is empty")
            if not multi_label and ";" in raw:
                raise DataError(f"{path}: row {row_no}, column 'labels' has several labels")
            if known_set is not None:
                bad = [x for x in labs if x not in known_set]
                if bad:
                    raise DataError(
                        f"{path}: row {row_no}, column 'labels': unknown label {bad[0]!r}"
                    )
            texts.append(text)
            labels.append(labs)
    if not texts:
        raise DataError(f"{path}: no data rows")
    return Labelled(texts, labels)


def multi_hot(data: Labelled, names: list[str]) -> np.ndarray:
    col = {n: i for i, n in enumerate(names)}
    y = np.zeros((len(data), len(names)), dtype=np.float32)
    for r, labs in enumerate(data.labels):
        for lab in labs:
            y[r, col[lab]] = 1.0
    return y


def stratified_split(data: Labelled, dev_share: float, seed: int) -> tuple[Labelled, Labelled]:
    """Single-label split keeping every label in train (labels with one row stay in train)."""
    train, dev = split_index(data, dev_share, seed)
    pick = lambda idx: Labelled([data.texts[i] for i in idx], [data.labels[i] for i in idx])  # noqa: E731
    return pick(train), pick(dev)


def split_index(data: Labelled, dev_share: float, seed: int) -> tuple[list[int], list[int]]:
    """The row numbers of :func:`stratified_split`'s two parts, each in file order."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, labs in enumerate(data.labels):
        by_label.setdefault(labs[0], []).append(i)
    dev: list[int] = []
    for rows in by_label.values():
        rows = list(rng.permutation(rows))
        n_dev = round(len(rows) * dev_share) if len(rows) > 1 else 0
        dev.extend(rows[: min(n_dev, len(rows) - 1)])
    dev_set = set(dev)
    return [i for i in range(len(data)) if i not in dev_set], sorted(dev)

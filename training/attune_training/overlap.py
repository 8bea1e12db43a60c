"""Does an evaluation file overlap a model's training rows? A model ships the hashes of the rows
it was trained or tuned on (``training_rows.sha256``, one short hex digest a line, no data), so
an evaluation can say how much of its file the model has already seen: figures on seen rows
overstate what the model does on new data.

A row's hash is over its normalised cells (stripped, lower-cased, joined by a unit separator),
so the same row read from another copy of the file still matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FILE = "training_rows.sha256"
DIGITS = 16  # 64 bits: a collision among a few million rows is vanishingly unlikely


def row_hash(cells: Sequence[Any]) -> str:
    text = "\x1f".join(str(c).strip().lower() for c in cells)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGITS]


def write(model_dir: Path, hashes: Iterable[str]) -> Path:
    path = model_dir / FILE
    path.write_text("".join(f"{h}\n" for h in sorted(set(hashes))))
    return path


def load(model_dir: Path) -> set[str] | None:
    """The model's training-row hashes, or None when it ships none (nothing can be said)."""
    path = model_dir / FILE
    if not path.is_file():
        return None
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def report(eval_hashes: Sequence[str], trained: set[str] | None) -> dict[str, Any]:
    """``overlap_rows`` and ``overlap_share`` of the evaluation file (None: not known)."""
    if trained is None:
        return {"overlap_rows": None, "overlap_share": None}
    seen = sum(1 for h in eval_hashes if h in trained)
    return {
        "overlap_rows": seen,
        "overlap_share": round(seen / len(eval_hashes), 4) if eval_hashes else 0.0,
    }


def warning(result: dict[str, Any]) -> str | None:
    share = result.get("overlap_share")
    if not share:
        return None
    return (
        f"{result['overlap_rows']} of the file's rows ({share:.0%}) were used to train this "
        "model: its figures here overstate what it does on new data; evaluate on held-out rows"
    )

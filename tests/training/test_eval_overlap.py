"""An evaluation says how much of its file the model was trained on (``overlap_share``), from
the row hashes the model ships, and warns when it is not zero."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attune.cli import app
from attune.models.runtime import artifact_dir
from attune.signals.behaviour.abandonment import COLUMNS
from attune_training import abandon_eval, overlap
from attune_training.abandonment import load_csv, row_hashes

CATEGORICAL = {"Month": "Nov", "VisitorType": "Returning_Visitor", "Weekend": "FALSE"}


def shoppers(path: Path, n: int, offset: int = 0) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*COLUMNS, "Revenue"])
        for i in range(offset, offset + n):
            row = [
                CATEGORICAL.get(c, str(i if k == 0 else i % 7 + 1)) for k, c in enumerate(COLUMNS)
            ]
            w.writerow([*row, "TRUE" if i % 3 == 0 else "FALSE"])
    return path


def test_hashes_ignore_case_spacing_and_column_order() -> None:
    assert overlap.row_hash([" Nov", "1"]) == overlap.row_hash(["nov ", "1"])
    assert overlap.row_hash(["1", "2"]) != overlap.row_hash(["2", "1"])


def test_eval_reports_the_share_it_was_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_rows, _ = load_csv(shoppers(tmp_path / "train.csv", 30))
    model = tmp_path / "model"
    model.mkdir()
    overlap.write(model, row_hashes(seen_rows))
    monkeypatch.setattr(abandon_eval, "artifact_dir", lambda _name: model)
    # 30 rows: the first 10 were trained on (offset 20 of the 30 training rows)
    data = shoppers(tmp_path / "eval.csv", 30, offset=20)
    result = abandon_eval.evaluate(data)
    assert result["overlap_rows"] == 10 and result["overlap_share"] == pytest.approx(
        10 / 30, abs=1e-4
    )
    out = CliRunner().invoke(app, ["eval", "abandonment", "--data", str(data), "--json"])
    assert out.exit_code == 0
    assert "were used to train this model" in out.output  # the warning on stderr


def test_the_shipped_model_ships_its_row_hashes() -> None:
    hashes = overlap.load(artifact_dir("abandonment"))
    assert hashes is not None and len(hashes) > 9000
    assert all(len(h) == overlap.DIGITS for h in list(hashes)[:100])

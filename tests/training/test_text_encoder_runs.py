"""The encoder's length runs: little padding, every text once, one text alone unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from attune.signals.text.encoder import _runs


def test_runs_cover_every_text_once_with_little_padding() -> None:
    lengths = [5, 40, 6, 12, 13, 7, 64, 30, 31, 5, 8]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    runs = _runs(order, lengths, batch=3)
    assert sorted(i for run in runs for i in run) == list(range(len(lengths)))
    for run in runs:
        assert len(run) <= 3
        assert lengths[run[-1]] <= 1.25 * lengths[run[0]] + 2


def test_one_text_batched_or_alone_reads_the_same() -> None:
    from attune.models.runtime import ModelNotFound
    from attune.signals.text.encoder import Encoder

    try:
        enc = Encoder()
    except ModelNotFound:
        pytest.skip("text encoder not installed")
    texts = ["I want to cancel", "where is my refund", "ok", "this is ridiculous, cancel it now"]
    together = enc.features(texts)
    alone = np.concatenate([enc.features([t]) for t in texts])
    cos = (
        (together * alone).sum(1) / np.linalg.norm(together, axis=1) / np.linalg.norm(alone, axis=1)
    )
    # int8 activations are quantized per batch, so batch-mates shift features a little
    assert cos.min() > 0.97

"""Frames are never written to disk or logs: decoding and analysing them opens no file for
writing, creates no file, logs nothing and prints nothing."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from attune.events.admitted import Frame, GatedEvent
from attune.signals import registry
from attune.signals.base import SessionScratch
from attune.signals.face.bench import SAMPLE
from attune.signals.face.decode import decode_frame

_WRITES: list[str] | None = None  # set while a test watches


def _hook(event: str, args: tuple) -> None:
    if _WRITES is None:
        return
    if event == "open":
        path, mode = args[0], args[1]
        flags = args[2] if len(args) > 2 else 0
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing:
            _WRITES.append(str(path))
    elif event in ("os.rename", "shutil.copyfile", "os.link", "os.symlink", "os.mkdir"):
        _WRITES.append(f"{event}:{args[0]}")


sys.addaudithook(_hook)


def _tree(root: Path) -> set[str]:
    return {str(p) for p in root.rglob("*")}


def test_frames_leave_no_trace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    global _WRITES
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with np.load(SAMPLE, allow_pickle=False) as data:
        jpeg = data["jpeg"].tobytes()
    analyzer = registry.build("face")  # model loading may read files; that is not frame data
    before = _tree(tmp_path)
    caplog.set_level(logging.DEBUG)
    _WRITES = []
    try:
        scratch = SessionScratch()
        signals = []
        for i in range(40):
            image = decode_frame(jpeg)
            event = GatedEvent("frame", f"f{i}", "subj", "s", i / 30, None, None, Frame(image))
            signals += analyzer.analyze(event, scratch)
        with pytest.raises(ValueError):  # a refused upload leaves no trace either
            decode_frame(jpeg[: len(jpeg) // 2])
        writes = list(_WRITES)
    finally:
        _WRITES = None
    assert signals, "the analyzer did run"
    assert writes == []
    assert _tree(tmp_path) == before
    assert caplog.records == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    # What the session keeps between frames: a face box, counters and seven scores; no pixels.
    kept = scratch["face"]
    assert kept.probs.shape == (7,)
    arrays = [v for v in vars_of(kept) if isinstance(v, np.ndarray)]
    assert all(a.size <= 7 for a in arrays)


def vars_of(obj: object) -> list[object]:
    out: list[object] = []
    for name in getattr(obj, "__slots__", ()):
        value = getattr(obj, name)
        out.append(value)
        if hasattr(value, "__slots__"):
            out += vars_of(value)
    return out


def test_the_hook_does_see_writes(tmp_path: Path) -> None:
    """The check above is not vacuous: a write to a file is caught."""
    global _WRITES
    _WRITES = []
    try:
        (tmp_path / "x.jpg").write_bytes(b"\xff\xd8")
        caught = list(_WRITES)
    finally:
        _WRITES = None
    assert any("x.jpg" in p for p in caught)

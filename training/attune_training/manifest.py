"""Refresh a model distribution's manifest after (re)training: the version from each model's
meta.json and the sha256 of every file. Licence fields are written by people, kept as they are.

    python -m attune_training.manifest models/attune-models-open/attune_models_open
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from attune.models.runtime import file_sha256

MANIFEST = "manifest.json"


def refresh(folder: Path) -> dict[str, object]:
    file = folder / MANIFEST
    manifest = json.loads(file.read_text())
    for name, entry in manifest["models"].items():
        model_dir = folder / name
        if not model_dir.is_dir():
            raise SystemExit(f"{model_dir}: listed in {file} but missing")
        meta = model_dir / "meta.json"
        if meta.is_file():
            entry["version"] = str(json.loads(meta.read_text()).get("version", entry["version"]))
        entry["files"] = {
            p.name: file_sha256(p) for p in sorted(model_dir.iterdir()) if p.is_file()
        }
    file.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["."]:
        refresh(Path(arg))

"""The ``attune`` command line. Command groups live in ``groups``; each area of the product
registers its commands in its own module below (core, text, voice, face, measure, trust)."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

from attune.cli.groups import app, eval_app, fail, train_app

# One module per area; each adds commands to the groups. Adding an area is one line here.
AREAS = ("core", "models", "text", "voice", "face", "measure", "privacy", "outreach")
for _area in AREAS:
    importlib.import_module(f"attune.cli.{_area}")

# Commands from other installed packages (attune-training adds ``train`` and ``eval``).
_PLUGINS = entry_points(group="attune.cli")
for _plugin in _PLUGINS:
    _plugin.load()()
if not any(p.name == "training" for p in _PLUGINS):

    @train_app.callback(invoke_without_command=True)
    @eval_app.callback(invoke_without_command=True)
    def _no_training() -> None:
        fail("train and eval come with attune-training: pip install -e ./training")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]

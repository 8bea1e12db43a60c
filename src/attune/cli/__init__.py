"""The ``attune`` command line. Command groups live in ``groups``; each area of the product
registers its commands in its own module below (core, text, voice, face, measure, trust)."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from importlib.metadata import entry_points

import typer

from attune.cli.groups import app, eval_app, fail, train_app

# One module per area; each adds commands to the groups. Adding an area is one line here.
AREAS = ("core", "models", "text", "voice", "face", "measure", "privacy", "outreach", "doctor")
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


def _unwrap_help(typer_app: typer.Typer) -> None:
    """Docstrings are wrapped at 100 columns in the source; the help reflows them itself, so a
    line break inside a paragraph would break a description mid-sentence."""
    for info in typer_app.registered_commands:
        text = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if text:
            info.help = re.sub(r"(?<!\n)\n(?!\n)", " ", text)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _unwrap_help(group.typer_instance)


_unwrap_help(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]

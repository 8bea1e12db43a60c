"""The ``attune train`` and ``attune eval`` commands. The ``attune`` CLI finds them through the
``attune.cli`` entry point of this package, so the runtime never imports training code."""

from __future__ import annotations

import importlib

AREAS = ("text", "voice", "face", "behaviour")


def register() -> None:
    for area in AREAS:
        importlib.import_module(f"attune_training.commands.{area}")

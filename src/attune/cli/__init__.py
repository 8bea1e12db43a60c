"""The ``attune`` command line. Command groups live in ``groups``; each area of the product
registers its commands in its own module below (core, text, voice, face, measure, trust)."""

from __future__ import annotations

import importlib
import sys

from attune.cli.groups import app

# One module per area; each adds commands to the groups. Adding an area is one line here.
AREAS = ("core", "text", "voice", "face", "measure", "trust")
for _area in AREAS:
    importlib.import_module(f"attune.cli.{_area}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


__all__ = ["app", "main"]

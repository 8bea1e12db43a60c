"""CLI commands of the face area."""

from __future__ import annotations

from attune.cli.groups import app, bench_app, eval_app, report_app, train_app  # noqa: F401

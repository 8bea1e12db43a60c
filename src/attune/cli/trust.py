"""CLI commands of the trust area: PII evaluation, audit, retention, subject rights, governance."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from attune.cli.groups import app, eval_app, fail  # noqa: F401

DEFAULT_PII_SET = Path("tests/data/pii/pii_set.jsonl")


def _emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


@eval_app.command("pii")
def eval_pii(
    data: Annotated[Path, typer.Option(help="labelled JSONL: text, locale, entities")] = (
        DEFAULT_PII_SET
    ),
    names: Annotated[str, typer.Option(help="person names: patterns | ner | off")] = "patterns",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Precision and recall of PII redaction per entity type."""
    from attune.privacy.pii_eval import evaluate, load
    from attune.privacy.redaction import Redactor

    if names not in ("patterns", "ner", "off"):
        fail(f"--names must be patterns, ner or off, not {names!r}")
    if not data.exists():
        fail(f"{data} does not exist")
    try:
        rows = load(data)
        redactor = Redactor(names=names)  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    result = evaluate(rows, redactor)
    if as_json:
        _emit(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"PII redaction on {data} ({result['examples']} examples, "
        f"{result['ms_per_message']} ms/message)"
    )
    for col in ("type", "support", "precision", "recall", "masked", "false pos."):
        table.add_column(col)
    for kind, m in result["per_type"].items():
        table.add_row(
            kind,
            str(m["support"]),
            str(m["precision"]),
            str(m["recall"]),
            str(m["masked"]),
            str(m["false_positives"]),
        )
    Console().print(table)

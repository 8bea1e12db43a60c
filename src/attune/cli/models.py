"""``attune models list``: the installed model distributions' models, with their licences."""

from __future__ import annotations

import json
import sys

import typer

from attune.cli.groups import app, console

models_app = typer.Typer(help="Installed models and their licences.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Every installed model, and every own model in ATTUNE_MODELS_DIR (it replaces its
    namesake): version, licence, data licences, commercial use, sha256, and whether it loads
    (installed models whose data forbids commercial use load only when enabled by name:
    ATTUNE_ENABLE_MODELS=NAME,...; own models always load, with the licence they declare)."""
    from attune.models.runtime import OWN_ENV, available

    rows = [m.to_dict() for m in available().values()]
    if as_json:
        sys.stdout.write(json.dumps({"models": rows}) + "\n")
        return
    if not rows:
        console.print("no model distribution installed: pip install -e ./models/attune-models-open")
    for m in rows:
        state = "loads" if m["enabled"] else "off (enable by name)"
        state += " (own)" if m["distribution"] == OWN_ENV else ""
        console.print(
            f"{m['name']:26s} {m['version']:36s} {state:22s} commercial use: "
            f"{'yes' if m['commercial_use'] else 'no'}; {m['licence']}; data: "
            + "; ".join(m["data_licences"])
        )

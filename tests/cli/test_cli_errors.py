"""Every CLI command, given bad arguments, answers with one clear line and no traceback: an
unknown option, a database in a folder that does not exist, a file that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from attune.cli import app

MISSING = "/nonexistent-attune-dir/missing.jsonl"
BAD_DB = "/nonexistent-attune-dir/attune.db"


def leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):  # a group (typer ships its own click)
        for name, sub in sorted(command.commands.items()):
            yield from leaves(sub, (*path, name))
    else:
        yield path, command


COMMANDS = list(leaves(typer.main.get_command(app)))


def filled(command: Any) -> list[str]:
    """Required arguments and options filled: numbers with 1, files with a missing file."""
    args: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        kind = getattr(getattr(param, "type_descriptor", None), "annotation", str)
        value = "1" if kind in (int, float) else MISSING if kind is Path else "x"
        if param.param_type_name == "option":
            args += [param.opts[0], value]
        else:
            args.append(value)
    return args


def has_db(command: Any) -> bool:
    return any("--db" in getattr(p, "opts", ()) for p in command.params)


def check(result: Any) -> str:
    out = result.output
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert result.exit_code != 0, out
    return out


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing a command might write lands in the checkout
    monkeypatch.delenv("ATTUNE_DEBUG", raising=False)


def test_the_walk_covers_the_commands() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"serve", "worker", "keys list", "report kpis", "eval pii", "roi"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_unknown_option_is_one_line(path: tuple[str, ...]) -> None:
    out = check(CliRunner().invoke(app, [*path, "--no-such-option"]))
    assert "No such option" in out


DB_COMMANDS = [(p, c) for p, c in COMMANDS if has_db(c) and p != ("demo",)]


@pytest.mark.parametrize("path,command", DB_COMMANDS, ids=[" ".join(p) for p, _ in DB_COMMANDS])
def test_a_database_that_cannot_be_opened_is_one_line(path: tuple[str, ...], command: Any) -> None:
    extra = ["--port", "0"] if path == ("serve",) else []
    args = [*path, *filled(command), "--db", BAD_DB, *extra]
    result = CliRunner().invoke(app, args, input="y\n")
    out = check(result)
    assert "error" in out.lower() or "Usage" in out
    errors = [line for line in out.splitlines() if line.startswith("error")]
    assert len(errors) <= 1


FILE_COMMANDS = [(p, c) for p, c in COMMANDS if MISSING in filled(c)]


@pytest.mark.parametrize("path,command", FILE_COMMANDS, ids=[" ".join(p) for p, _ in FILE_COMMANDS])
def test_a_missing_file_is_one_line(path: tuple[str, ...], command: Any) -> None:
    out = check(CliRunner().invoke(app, [*path, *filled(command)], input="y\n"))
    assert "error" in out.lower() or "Usage" in out or "does not exist" in out


def test_serve_on_a_busy_port_says_so_before_listening(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            app,
            ["serve", "--port", str(port), "--db", str(tmp_path / "a.db")],
            env={"ATTUNE_PSEUDONYM_KEY": "a-real-secret-for-this-test-0123456789abcdef"},
        )
    out = check(result)
    assert "already in use" in out and "listening" not in out


def test_a_missing_postgres_database_names_createdb() -> None:
    from attune.storage.problems import describe

    class Orig(Exception):
        pass

    exc = Orig('connection failed: FATAL:  database "attune" does not exist')
    line = describe("postgresql://app:pw@db.internal:5433/attune", exc)
    assert "createdb -h db.internal -p 5433 -U app attune" in line and "pw" not in line


def test_plain_paths_are_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    result = CliRunner().invoke(app, ["keys", "create", "k", "--db", str(db)])
    assert result.exit_code == 0 and db.is_file()
    listed = CliRunner().invoke(app, ["keys", "list", "--db", str(db)])
    assert listed.exit_code == 0 and '"name": "k"' in listed.output

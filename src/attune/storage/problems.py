"""Why a database could not be opened, in one line a person can act on (the CLI prints it; the
service refuses to start with it). Passwords in URLs are never repeated."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from attune.config import as_url

__all__ = ["URL_FORMS", "DatabaseProblem", "as_url", "describe", "shown", "sqlite_path"]

URL_FORMS = "a SQLite file (attune.db), sqlite:///PATH or postgresql://USER@HOST:PORT/NAME"


class DatabaseProblem(RuntimeError):
    """The database named by a URL cannot be used; the message says what to do."""


def shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for memory or another database)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.split("://", 1)[1].removeprefix("/")
    return Path(rest) if rest and rest != ":memory:" else None


def describe(url: str, exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    where = shown(url)
    if isinstance(exc, ArgumentError) or "Can't load plugin" in text:
        return f"{where!r} is not a database URL: use {URL_FORMS}"
    if isinstance(exc, ModuleNotFoundError) or "No module named" in text:
        return f"{where} needs the PostgreSQL driver: pip install 'attune[scale]'"
    path = sqlite_path(url)
    if path is not None:
        if not path.parent.is_dir():
            return f"cannot create {path}: folder {path.parent} does not exist (mkdir -p it first)"
        return f"cannot open the SQLite file {path}: {text.splitlines()[0]} (check its permissions)"
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        try:
            parsed = make_url(url)
            flags = f"-h {parsed.host or '127.0.0.1'} -p {parsed.port or 5432}"
            flags += f" -U {parsed.username}" if parsed.username else ""
        except ArgumentError:
            flags = ""
        return (
            f"the database {missing.group(1)!r} does not exist on "
            f"{where.split('@')[-1].rsplit('/', 1)[0]}: "
            f"create it with `createdb {flags} {missing.group(1)}`".replace("  ", " ")
        )
    if "Connection refused" in text or "could not connect" in text or "timeout expired" in text:
        return f"no database server answers at {where}: start it, or fix the host and port"
    if "password authentication failed" in text or "no password supplied" in text:
        return f"the database server refused the login in {where}: check user and password"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot open the database {where}: {first}"

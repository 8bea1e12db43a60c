"""Access logs: one line per request with method, route, status, latency and the API key's
name. Never a body, a query string or a raw path (ids in paths and queries may be personal
data): the route's template is logged, e.g. ``/v1/sessions/{session_id}``."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from starlette.routing import compile_path

from attune.api.segment import SHORT_PATHS
from attune.privacy.abuse import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("attune.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (not when configured)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """The service's log lines on stderr, as text or as one JSON object per line."""
    handler = _Stderr()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("attune").setLevel(level)


def _templates(routes: list[Any], prefix: str = "") -> list[tuple[re.Pattern[str], str]]:
    """(regex, template) of every route, included routers flattened (FastAPI wraps them)."""
    out: list[tuple[re.Pattern[str], str]] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            out += _templates(inner.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(getattr(route, "path", None), str):
            regex, template, _ = compile_path(prefix + route.path)
            out.append((regex, template))
    return out


def route_of(app: Any, scope: Scope) -> str:
    """The template of the route that served ``scope`` (never the raw path)."""
    table = getattr(app.state, "route_templates", None)
    if table is None:
        table = app.state.route_templates = _templates(app.router.routes)
    path = scope.get("path", "").rstrip("/") or "/"
    path = SHORT_PATHS.get(path, path)  # analytics.js' /v1/t is logged as /v1/track
    for regex, template in table:
        if regex.match(path):
            return template
    return "<no route>"


class AccessLog:
    """Outermost middleware: also sees the guard's refusals (413, 415, 429)."""

    def __init__(self, app: ASGIApp, fastapi_app: Any) -> None:
        self.app, self.fastapi_app = app, fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the copies inner layers make
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - start
            route = route_of(self.fastapi_app, scope)
            key = state.get("api_key")
            fields = {
                "method": scope["method"],
                "route": route,
                "status": status,
                "ms": round(elapsed * 1000, 2),
                "key": getattr(key, "name", None),
            }
            metrics = getattr(self.fastapi_app.state, "metrics", None)
            if metrics is not None:
                metrics.request(scope["method"], route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1f ms key=%s",
                    fields["method"],
                    route,
                    status,
                    fields["ms"],
                    fields["key"] or "-",
                    extra={"fields": fields},
                )


def install_access_log(app: Any) -> None:
    app.add_middleware(AccessLog, fastapi_app=app)

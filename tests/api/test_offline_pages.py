"""Self-hosted means offline: every page the service serves (API docs, dashboard) loads its
scripts and styles from the service itself, never from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.config import Settings

URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/dashboard", "/agent"])
def test_pages_name_no_other_host_and_their_assets_are_served(
    client: TestClient, page: str
) -> None:
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert URL.findall(html) == []
    refs = [a or b for a, b in REF.findall(html)]
    local = [ref for ref in refs if ref.startswith("/")]
    for ref in local:
        assert client.get(ref).status_code == 200, ref
    if page in ("/docs", "/redoc"):
        assert any(ref.endswith(".js") for ref in local)  # the viewer itself, from here


def test_only_the_packaged_assets_are_served(client: TestClient) -> None:
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/docs/assets/nothing.js").status_code == 404

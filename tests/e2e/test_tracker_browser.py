"""The browser tracker in real headless Chromium against the real service: a page whose
visitor rage-clicks "Pay" gets a rage-click signal and an adapted decision, and a revocation
stops the tracker from sending anything."""

from __future__ import annotations

import subprocess
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from attune.sim.server import RunningServer, child_server

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><title>Checkout</title>
<script src="{base}/tracker.js"></script></head>
<body><button id="pay" style="width:200px;height:60px">Pay</button>
<script>
history.replaceState(null, "", "/checkout/pay");
Attune.init({{endpoint: "{base}", writeKey: "{key}", userId: "{user}", flushMs: 100,
              onDecision: function (d) {{ document.title = "mode:" + d.mode; }}}});
{after_init}
var pay = document.getElementById("pay");
for (var i = 0; i < 4; i++) {{
  pay.dispatchEvent(new MouseEvent("click", {{bubbles: true, clientX: 50, clientY: 20}}));
}}
Attune.flush();
</script></body></html>"""


def run_page(chromium: str, tmp_path: Path, html: str, real_ms: int | None = None) -> None:
    """Load the page headless. Timers run on virtual time (fast) unless ``real_ms`` asks for
    that much wall-clock time (a server's rate limit counts real seconds)."""
    (tmp_path / "index.html").write_text(html)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = f"http://127.0.0.1:{site.server_address[1]}/index.html"
    try:
        if real_ms is None:
            cmd = [*flags, "--virtual-time-budget=4000", "--dump-dom", url]
            subprocess.run(cmd, capture_output=True, timeout=60, check=True)
        else:  # a browser left open on the page for that long, then closed
            cmd = [*flags, "--remote-debugging-port=0", url]
            browser = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(real_ms / 1000)
            browser.terminate()
            browser.wait(timeout=30)
    finally:
        site.shutdown()


def ingest_key(server: RunningServer) -> str:
    """A public (ingest) key, as a web page holds (created in the server's own database)."""
    from attune.api.keys import KeyRing
    from attune.storage.store import Store

    store = Store(server.database_url)
    try:
        return KeyRing(store).create("web", ["ingest"])
    finally:
        store.close()


def checkout_page(server: RunningServer, user: str, after_init: str = "") -> str:
    key = ingest_key(server)
    return PAGE.format(base=server.base_url, key=key, user=user, after_init=after_init)


def session_view(server: RunningServer, session_id: object) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {server.admin_key}"}
    view: dict[str, Any] = httpx.get(
        f"{server.base_url}/v1/sessions/{session_id}", headers=auth
    ).json()
    return view


def live_sessions(base: str, key: str) -> list[dict[str, object]]:
    auth = {"Authorization": f"Bearer {key}"}
    sessions = httpx.get(f"{base}/v1/sessions", headers=auth).json()["sessions"]
    return sessions


@pytest.mark.slow
def test_tracker_sends_clicks_and_gets_an_adapted_decision(chromium: str, tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 't.db'}") as server:
        run_page(chromium, tmp_path, checkout_page(server, "browser-user"))
        sessions = live_sessions(server.base_url, server.admin_key)
        assert len(sessions) == 1
        view = session_view(server, sessions[0]["session_id"])
    assert view["moment"] == "checkout"
    assert view["decision"]["mode"] == "fast_track"
    assert "clicks" in view["decision"]["explanation"]


@pytest.mark.slow
def test_a_returning_visitor_sends_its_session_token(chromium: str, tmp_path: Path) -> None:
    """A second session of the same visitor (a new tab's session, after the first answer) is
    accepted only because the tracker kept the token Attune gave the first one and sends it."""
    second_visit = (
        "setTimeout(function () { sessionStorage.clear(); Attune.page(); Attune.flush(); }, 1500);"
    )
    with child_server(f"sqlite:///{tmp_path / 't.db'}") as server:
        run_page(chromium, tmp_path, checkout_page(server, "returning-user", second_visit))
        sessions = live_sessions(server.base_url, server.admin_key)
    assert len(sessions) == 2


@pytest.mark.slow
def test_revoked_tracker_sends_nothing(chromium: str, tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 't.db'}") as server:
        revoke = 'Attune.consent.revoke(["behaviour"]);'
        run_page(chromium, tmp_path, checkout_page(server, "browser-user-2", revoke))
        sessions = live_sessions(server.base_url, server.admin_key)
    assert sessions == []


@pytest.mark.slow
def test_a_throttled_tracker_sends_its_batch_again_later(chromium: str, tmp_path: Path) -> None:
    slow = {"ATTUNE_RATE_PER_S": "0.5", "ATTUNE_RATE_BURST": "1"}  # one request, then 1 per 2 s
    with child_server(f"sqlite:///{tmp_path / 't.db'}", env=slow) as server:
        # the page view flushed alone takes the one request allowed; the clicks get a 429
        page = checkout_page(server, "busy-user", "Attune.flush();")
        run_page(chromium, tmp_path, page, real_ms=6000)
        time.sleep(2.5)  # this test's own read needs a token too
        sessions = live_sessions(server.base_url, server.admin_key)
        assert len(sessions) == 1
        time.sleep(2.5)
        view = session_view(server, sessions[0]["session_id"])
    assert view["decision"]["mode"] == "fast_track"  # the clicks arrived after the 429

"""The agent console in real headless Chromium against the real service, driven over the
DevTools protocol: the queue lists a waiting customer, claiming shows the conversation and the
coaching, a new customer turn appears live (SSE), and closing records the outcome."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from attune.api.keys import KeyRing
from attune.sim.server import child_server
from attune.storage.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]
T0 = 1_767_000_000.0
WAIT_S = 30.0


def _message(i: int, text: str) -> dict[str, Any]:
    return {
        "messageId": f"console-{i}",
        "userId": "console-customer",
        "sessionId": "console-chat",
        "timestamp": T0 + i,
        "text": text,
        "context": {"channel": "chat"},
    }


class Page:
    """One tab, over the DevTools websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.n = ws, 0

    async def eval(self, expr: str) -> Any:
        self.n += 1
        await self.ws.send(
            json.dumps(
                {
                    "id": self.n,
                    "method": "Runtime.evaluate",
                    "params": {"expression": expr, "returnByValue": True, "awaitPromise": True},
                }
            )
        )
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("id") == self.n:
                return msg["result"]["result"].get("value")

    async def until(self, expr: str) -> Any:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            value = await self.eval(expr)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise AssertionError(f"never true in the page: {expr}")


def _devtools_url(browser: subprocess.Popen[str]) -> str:
    assert browser.stderr is not None
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = browser.stderr.readline()
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            return m.group(1)
    raise AssertionError("Chromium did not start its DevTools endpoint")


def test_queue_claim_live_turn_close(chromium: str, tmp_path: Path) -> None:
    import websockets

    with child_server(f"sqlite:///{tmp_path / 'a.db'}") as server:
        base, admin = server.base_url, {"Authorization": f"Bearer {server.admin_key}"}
        r = httpx.post(
            f"{base}/v1/consent/grant",
            json={"userId": "console-customer", "modalities": ["text"]},
            headers=admin,
        )
        assert r.status_code == 200
        first = httpx.post(
            f"{base}/v1/messages",
            json=_message(1, "Can I please speak to a real person?"),
            headers=admin,
            timeout=60,
        )
        assert first.json()["decision"]["escalate"] is True
        key = KeyRing(Store(f"sqlite:///{tmp_path / 'a.db'}")).create("agent-anna", ["agent"])
        browser = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                f"--user-data-dir={tmp_path / 'profile'}",
                f"{base}/agent#key={key}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ws_url = _devtools_url(browser)
            port = ws_url.split(":")[2].split("/")[0]
            tabs = httpx.get(f"http://127.0.0.1:{port}/json").json()
            tab = next(t for t in tabs if t["type"] == "page")

            async def drive() -> dict[str, str]:
                async with websockets.connect(tab["webSocketDebuggerUrl"], max_size=None) as ws:
                    page = Page(ws)
                    await page.until("document.querySelectorAll('#rows tr').length === 1")
                    queued = await page.eval("document.getElementById('rows').innerText")
                    await page.eval("document.querySelector('#rows button.claim').click()")
                    await page.until("document.getElementById('transcript').children.length === 1")
                    claimed = await page.eval("document.getElementById('work').innerText")
                    httpx.post(
                        f"{base}/v1/messages",
                        json=_message(2, "I have been waiting for an hour, this is ridiculous."),
                        headers=admin,
                        timeout=60,
                    )
                    await page.until("document.getElementById('transcript').children.length === 2")
                    live = await page.eval("document.getElementById('transcript').innerText")
                    await page.eval("document.getElementById('close').click()")
                    closed = await page.until(
                        "document.getElementById('closed').innerText.startsWith('Closed') && "
                        "document.getElementById('closed').innerText"
                    )
                    return {"queued": queued, "claimed": claimed, "live": live, "closed": closed}

            seen = asyncio.run(drive())
        finally:
            browser.terminate()
            browser.wait(timeout=30)
        after = httpx.get(f"{base}/v1/handoffs?status=closed", headers=admin).json()
    assert "support" in seen["queued"] and "asked to speak with a person" in seen["queued"]
    assert "Can I please speak to a real person?" in seen["claimed"]
    assert "Tone:" in seen["claimed"] and "Open with:" in seen["claimed"]
    assert "ridiculous" in seen["live"]
    assert seen["closed"] == "Closed: resolved"
    assert after["handoffs"][0]["outcome"] == "resolved"

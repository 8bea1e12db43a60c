"""The web dashboard in headless Chromium shows the live sessions of the real service."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from attune.sim.server import child_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
T0 = 1_767_000_000.0


def test_dashboard_lists_live_sessions_with_their_state(chromium: str, tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 'd.db'}") as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        clicks = [
            {
                "type": "track",
                "anonymousId": "v",
                "sessionId": "dash-1",
                "messageId": f"c{i}",
                "timestamp": T0 + i * 0.2,
                "event": "click",
                "properties": {"selector": "#pay", "x": 1, "y": 1},
            }
            for i in range(4)
        ]
        page = {
            "type": "page",
            "anonymousId": "v",
            "sessionId": "dash-1",
            "messageId": "p",
            "timestamp": T0 - 1,
            "properties": {"path": "/checkout"},
        }
        httpx.post(f"{server.base_url}/v1/batch", headers=auth, json={"batch": [page, *clicks]})
        dom = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=3000",
                "--dump-dom",
                f"{server.base_url}/dashboard#key={server.admin_key}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    assert "1 live sessions" in dom
    assert "dash-1" in dom and "fast_track" in dom and "frustrated" in dom

"""Scale-out delivery end to end, in real processes: ``attune serve`` on NATS JetStream,
PostgreSQL and Redis, and two ``attune worker`` processes splitting the partitions. A support
chat that turns sour is processed by a worker; its escalation must still reach the webhook and
the SSE subscriber of the API process, and ``/v1/sessions/{id}`` must answer there; the first
answer for a new session carries its decision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from attune.sim.server import child_server, free_port

pytestmark = [pytest.mark.nats, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
T0 = 1_767_000_000.0


class Hooks(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - one receiver per test run

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # quiet
        return None


@pytest.fixture
def webhook() -> Iterator[str]:
    Hooks.received = []
    server = HTTPServer(("127.0.0.1", free_port()), Hooks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _wait(check: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_workers_escalation_reaches_webhook_and_sse(
    postgres_url: str, nats_url: str, redis_url: str, webhook: str, scale_names: dict[str, str]
) -> None:
    env = {
        **{f"ATTUNE_{k.upper()}": v for k, v in scale_names.items()},
        "ATTUNE_TRANSPORT": "nats",
        "ATTUNE_NATS_URL": nats_url,
        "ATTUNE_REDIS_URL": redis_url,
        "ATTUNE_PARTITIONS": "2",
        "ATTUNE_MODALITIES": '["behaviour"]',
        "ATTUNE_WEBHOOK_URLS": json.dumps([webhook]),
        "ATTUNE_PSEUDONYM_KEY": "e2e-scaleout-key",
        "ATTUNE_QUEUED_ANSWER_WAIT_S": "10",  # a loaded test machine: room for the workers
    }
    with child_server(postgres_url, env=env) as api:
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "attune", "worker", "--partitions", str(p)],
                env={**os.environ, **env, "ATTUNE_DATABASE_URL": postgres_url},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for p in (0, 1)
        ]
        try:
            auth = {"Authorization": f"Bearer {api.admin_key}"}
            sid = "chat-esc-1"
            received: list[dict[str, Any]] = []
            connected = threading.Event()

            def listen() -> None:
                url = f"{api.base_url}/v1/sessions/{sid}/stream"
                try:
                    with httpx.stream("GET", url, headers=auth, timeout=120) as response:
                        connected.set()
                        for line in response.iter_lines():
                            if line.startswith("data:") and line != "data: {}":
                                received.append(json.loads(line[5:]))
                                if received[-1].get("escalate"):
                                    return
                except httpx.HTTPError:  # the server stops at the end: the asserts below tell
                    return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            assert connected.wait(60)
            time.sleep(0.5)  # the subscription is registered once the stream is open
            base = {"anonymousId": "cust-e2e", "sessionId": sid, "context": {"channel": "chat"}}
            batch = [
                {"type": "page", "messageId": "p", "timestamp": T0, **base}
                | {"properties": {"path": "/help"}}
            ] + [
                {
                    "type": "track",
                    "messageId": f"c{i}",
                    "timestamp": T0 + 31 + i * 0.2,
                    "event": "click",
                    "properties": {"selector": "#send", "x": 1, "y": 1},
                    **base,
                }
                for i in range(6)
            ]
            r = httpx.post(
                f"{api.base_url}/v1/batch", headers=auth, json={"batch": batch}, timeout=60
            )
            assert r.status_code == 200 and r.json()["queued"] is True

            assert _wait(lambda: any(h.get("session_id") == sid for h in Hooks.received), 120)
            hook = next(h for h in Hooks.received if h.get("session_id") == sid)
            assert hook["type"] == "escalation" and hook["escalate"] is True
            listener.join(60)
            assert received and received[-1]["escalate"] is True
            assert received[-1]["mode"] == "escalate_to_human"

            view = httpx.get(f"{api.base_url}/v1/sessions/{sid}", headers=auth, timeout=60)
            assert view.status_code == 200, view.text
            assert view.json()["decision"]["escalate"] is True

            # the workers are up: the first answer for a new session carries their decision
            first = {"messageId": "first", "anonymousId": "c0", "sessionId": "new-session"}
            r = httpx.post(f"{api.base_url}/v1/page", headers=auth, json=first, timeout=60)
            assert r.status_code == 200 and r.json()["queued"] is True
            assert r.json()["decision"] is not None, r.text
            assert r.json()["decision"]["session_id"] == "new-session"
        finally:
            for w in workers:
                w.terminate()
                w.wait(timeout=30)

"""Handoff webhooks against a real HTTP receiver: a contact-centre system gets the handoff
(versioned schema, transcript, queue, priority) signed with HMAC, and can verify it; the
decision's route (who, where) never leaves in the escalation event."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import orjson
from fastapi.testclient import TestClient

from attune.api.app import create_app
from attune.config import Settings, load_settings
from attune.delivery.webhooks import sign, verify

SECRET = "webhook-secret-for-tests"


class Receiver(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.got.append((body, dict(self.headers)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_a_handoff_reaches_the_contact_centre_signed(settings: Settings) -> None:
    Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s = load_settings(
            database_url=settings.database_url,
            modalities=["behaviour", "text"],
            pseudonym_key="test-key",
            require_playbook_approval=False,
            webhook_urls=[f"http://127.0.0.1:{server.server_address[1]}/hook"],
            webhook_secret=SECRET,
        )
        app = create_app(s)
        key = app.state.keys.create("admin", ["admin"])
        auth = {"Authorization": f"Bearer {key}"}
        with TestClient(app) as client:
            client.post(
                "/v1/consent/grant", json={"userId": "w1", "modalities": ["text"]}, headers=auth
            )
            client.post(
                "/v1/messages",
                json={
                    "messageId": "w1-1",
                    "userId": "w1",
                    "sessionId": "w-chat",
                    "text": "Ich will sofort mit einem Menschen sprechen!",
                    "context": {"channel": "chat"},
                },
                headers=auth,
            )
        # leaving the client drains the webhooks
    finally:
        server.shutdown()
    bodies = {orjson.loads(b)["type"]: (b, h) for b, h in Receiver.got}
    assert {"escalation", "handoff.opened"} <= set(bodies)
    raw, headers = bodies["handoff.opened"]
    assert verify(SECRET, raw, headers["X-Attune-Signature"], time.time())
    assert not verify("another-secret", raw, headers["X-Attune-Signature"], time.time())
    payload = orjson.loads(raw)
    assert payload["schema"] == "attune.handoff/1"
    h = payload["handoff"]
    assert h["language"] == "de" and h["queue"] == "support-de" and h["intent"] == "human"
    assert h["transcript"][0]["text"] == "Ich will sofort mit einem Menschen sprechen!"
    escalation = orjson.loads(bodies["escalation"][0])
    assert escalation["escalate"] is True and "route" not in escalation


def test_old_signatures_are_refused() -> None:
    body = b'{"a":1}'
    header = sign(SECRET, body, now=1_000.0)
    assert verify(SECRET, body, header, now=1_100.0)
    assert not verify(SECRET, body, header, now=1_000.0 + 3600)
    assert not verify(SECRET, body, "t=x,v1=y", now=1_000.0)

"""Voice and frame ingest through the real app: refused before decoding without consent and
disclosure, clear 4xx for bad media, analysed when allowed, nothing but metadata stored."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from attune.api.app import create_app
from attune.config import Settings, load_settings
from attune.storage import tables

sf = pytest.importorskip("soundfile", reason="the voice extra is not installed")
cv2 = pytest.importorskip("cv2", reason="the face extra is not installed")


@pytest.fixture
def api(tmp_path) -> Iterator[tuple[TestClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    settings: Settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'm.db'}", modalities=["behaviour", "voice", "face"]
    )
    app = create_app(settings)
    key = app.state.keys.create("test-admin", ["admin"])
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def consent(client: TestClient, auth: dict[str, str], user: str, *modalities: str) -> None:
    version = client.get("/v1/disclosure", headers=auth).json()["version"]
    assert (
        client.post(
            "/v1/disclosure/acknowledge", json={"userId": user, "version": version}, headers=auth
        ).status_code
        == 200
    )
    r = client.post(
        "/v1/consent/grant", json={"userId": user, "modalities": list(modalities)}, headers=auth
    )
    assert r.status_code == 200


def wav(seconds: float = 4.0, rate: int = 8000, channels: int = 1) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * (140 + 20 * np.sin(2 * np.pi * 3 * t)) * t)
    data = np.stack(
        [voice] + [0.01 * np.random.default_rng(1).standard_normal(len(t))] * (channels - 1), axis=1
    )
    buf = io.BytesIO()
    sf.write(buf, data, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def png() -> bytes:
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return bytes(buf)


def test_voice_without_consent_is_refused_before_decoding(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    r = client.post(
        "/v1/voice?userId=caller-1&sessionId=call-1", content=b"not audio at all", headers=auth
    )
    assert r.status_code == 403  # not 415: the bytes were never looked at
    assert "disclosure" in r.json()["detail"]
    version = client.get("/v1/disclosure", headers=auth).json()["version"]
    client.post(
        "/v1/disclosure/acknowledge", json={"userId": "caller-1", "version": version}, headers=auth
    )
    r = client.post("/v1/voice?userId=caller-1", content=b"x", headers=auth)
    assert r.status_code == 403 and "consent" in r.json()["detail"]


def test_voice_upload_is_analysed_and_only_metadata_is_kept(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    consent(client, auth, "caller-2", "voice")
    assert (
        client.post("/v1/voice?userId=caller-2", content=b"RIFF-garbage", headers=auth).status_code
        == 415
    )
    audio = wav(channels=2)
    r = client.post(
        "/v1/voice?userId=caller-2&sessionId=call-2&customerChannel=0", content=audio, headers=auth
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["seconds"] == pytest.approx(4.0, abs=0.05)
    assert body["decision"]["session_id"] == "call-2"
    client.app.state.engine.flush()  # type: ignore[attr-defined]
    with client.app.state.store.connect() as conn:  # type: ignore[attr-defined]
        rows = (
            conn.execute(select(tables.events.c.payload).where(tables.events.c.kind == "voice"))
            .scalars()
            .all()
        )
    assert rows, "the processed chunks are recorded"
    for payload in rows:
        assert set(payload) <= {"media", "seconds", "role", "sample_rate"}
    assert {p["role"] for p in rows} == {"customer", "agent"}


def test_voice_stream_refused_without_consent(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    key = auth["Authorization"].split()[1]
    with client.websocket_connect(f"/v1/voice/stream?key={key}") as ws:
        ws.send_text('{"type": "start", "userId": "caller-3", "sampleRate": 8000}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4403


def test_voice_stream_accepts_pcm_when_allowed(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    consent(client, auth, "caller-4", "voice")
    key = auth["Authorization"].split()[1]
    t = np.arange(8000 * 4) / 8000
    pcm = (0.3 * np.sin(2 * np.pi * 150 * t) * 32767).astype("<i2").tobytes()
    with client.websocket_connect(f"/v1/voice/stream?key={key}") as ws:
        ws.send_text(
            '{"type": "start", "userId": "caller-4", "sessionId": "live-4", '
            '"sampleRate": 8000, "channels": 1}'
        )
        for i in range(0, len(pcm), 3200):  # 200 ms frames
            ws.send_bytes(pcm[i : i + 3200])
        decision = ws.receive_json()
    assert decision["type"] == "decision" and decision["session_id"] == "live-4"
    assert client.app.state.engine.sessions["live-4"].subject  # type: ignore[attr-defined]


def test_frames_need_consent_and_valid_images(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    r = client.post("/v1/frames?userId=viewer-1&sessionId=v1", content=png(), headers=auth)
    assert r.status_code == 403
    consent(client, auth, "viewer-1", "face")
    assert (
        client.post(
            "/v1/frames?userId=viewer-1", content=b"\x89PNG broken", headers=auth
        ).status_code
        == 415
    )
    r = client.post("/v1/frames?userId=viewer-1", content=b"\xff\xd8\xff\x00", headers=auth)
    assert r.status_code == 400 and "corrupt JPEG" in r.json()["detail"]  # a JPEG, but broken
    r = client.post("/v1/frames?userId=viewer-1&sessionId=v1", content=png(), headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["session_id"] == "v1"


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("[1, 2]", "JSON object"),
        ('"start"', "JSON object"),
        ('{"type": "start", "userId": "c", "sessionId": {"a": 1}}', "sessionId"),
        ('{"type": "start", "userId": "c", "customerChannel": "x"}', "customerChannel"),
        (
            '{"type": "start", "userId": "c", "channels": 1, "customerChannel": 1}',
            "customerChannel",
        ),
        ('{"type": "start", "userId": "c", "sampleRate": "16000"}', "sampleRate"),
        ("not json", "JSON"),
    ],
)
def test_bad_start_messages_close_with_4400_and_a_reason(
    api: tuple[TestClient, dict[str, str]], start: str, reason: str
) -> None:
    client, auth = api
    key = auth["Authorization"].split()[1]
    with client.websocket_connect(f"/v1/voice/stream?key={key}") as ws:
        ws.send_text(start)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4400 and reason in str(closed.value.reason)


def test_a_text_frame_after_start_closes_with_4400(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    consent(client, auth, "caller-5", "voice", "face")
    key = auth["Authorization"].split()[1]
    for path in ("/v1/voice/stream", "/v1/frames/stream"):
        with client.websocket_connect(f"{path}?key={key}") as ws:
            ws.send_text('{"type": "start", "userId": "caller-5", "sampleRate": 8000}')
            ws.send_text("hello")
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
        assert closed.value.code == 4400 and "binary" in str(closed.value.reason)


def test_a_chunked_upload_is_counted_as_it_streams(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    consent(client, auth, "caller-6", "face")

    def body() -> Iterator[bytes]:
        for _ in range(8):  # 8 MB without a Content-Length, over the 5 MB frame limit
            yield b"\0" * 1_000_000

    r = client.post("/v1/frames?userId=caller-6", content=body(), headers=auth)
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_header_claims_are_checked_against_the_bytes() -> None:
    from attune.signals.voice.audio_io import AudioDecodeError, decode_audio

    for rate in (1, 1_000_000):
        with pytest.raises(AudioDecodeError, match="sample rate"):
            decode_audio(hostile_wav(rate))


def hostile_wav(rate: int, frames: int = 3500) -> bytes:
    """A WAV whose header claims ``rate`` Hz (7 KB of 16-bit mono samples)."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(frames, dtype="<i2").tobytes())
    return buf.getvalue()

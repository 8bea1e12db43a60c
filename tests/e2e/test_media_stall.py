"""Media never stalls the service (a real ``attune serve``): a WAV whose header claims 1 Hz is
answered within 5 s, and ``/healthz`` answers within 0.5 s all the while, also while a long
legitimate call is being analysed on the media pool."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from attune.sim.server import child_server

sf = pytest.importorskip("soundfile", reason="the voice extra is not installed")


def _wav(rate: int, seconds: float) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    voice = 0.3 * np.sin(2 * np.pi * (140 + 20 * np.sin(2 * np.pi * 3 * t)) * t)
    buf = io.BytesIO()
    sf.write(buf, voice, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _hostile_wav() -> bytes:
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(1)  # 3500 frames "at 1 Hz": an hour of audio once resampled
        w.writeframes(np.zeros(3500, dtype="<i2").tobytes())
    return buf.getvalue()


@pytest.mark.slow
def test_hostile_and_long_audio_leave_healthz_responsive(tmp_path: Path) -> None:
    env = {"ATTUNE_MODALITIES": '["behaviour", "voice"]'}
    with child_server(f"sqlite:///{tmp_path / 'media.db'}", env=env) as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        base = server.base_url
        version = httpx.get(f"{base}/v1/disclosure", headers=auth).json()["version"]
        ack = {"userId": "caller", "version": version}
        assert httpx.post(f"{base}/v1/disclosure/acknowledge", json=ack, headers=auth).is_success
        grant = {"userId": "caller", "modalities": ["voice"]}
        assert httpx.post(f"{base}/v1/consent/grant", json=grant, headers=auth).is_success

        stop = threading.Event()
        polls: list[int] = []
        stalls: list[str] = []

        def poll() -> None:
            with httpx.Client(timeout=0.5) as client:
                while not stop.is_set():
                    try:
                        polls.append(client.get(f"{base}/healthz").status_code)
                    except httpx.TimeoutException as exc:
                        stalls.append(type(exc).__name__)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            upload = f"{base}/v1/voice?userId=caller&sessionId=call-1"
            hostile = httpx.post(upload, content=_hostile_wav(), headers=auth, timeout=5)
            assert hostile.status_code == 415 and "sample rate" in hostile.json()["detail"]
            before = len(polls)
            call = httpx.post(upload, content=_wav(16000, 60.0), headers=auth, timeout=120)
            assert call.status_code == 200, call.text
            during = len(polls) - before
        finally:
            stop.set()
            poller.join()
    assert stalls == [], f"/healthz waited more than 0.5 s {len(stalls)} times"
    assert during > 0 and set(polls) == {200}

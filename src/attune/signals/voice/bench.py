"""``attune bench voice``: real-time factor on one core, per-window latency, resident memory.

CPU time (``time.process_time``) over audio duration, with every onnxruntime session on one
thread and no BLAS calls in the feature code, so the figure is per core even on a busy host.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import numpy as np

from attune.signals.voice import vad
from attune.signals.voice.audio_io import float_to_pcm16
from attune.signals.voice.features import from_lld
from attune.signals.voice.lld import extract_lld
from attune.signals.voice.stream import BLOCK, LOOKAHEAD
from attune.signals.voice.synth import vowel_speech


def _call_audio(seconds: float) -> np.ndarray:
    """Synthetic customer speech: pitch and rate drift, with pauses."""
    parts, total, k = [], 0.0, 0
    while total < seconds:
        seg = min(10.0, seconds - total)
        parts.append(vowel_speech(seg, f0=120 + 15 * k, rate=4.5 + 0.3 * k, seed=k, pause_every=5))
        total += seg
        k = (k + 1) % 6
    return np.concatenate(parts)


def run(seconds: float = 60.0, audio: np.ndarray | None = None) -> dict[str, Any]:
    from attune.signals.voice.analyzer import VoiceAnalyzer, VoiceStream

    x = _call_audio(seconds) if audio is None else np.asarray(audio, np.float32)
    dur = len(x) / 16000
    t = time.perf_counter()
    analyzer = VoiceAnalyzer()
    load_s = time.perf_counter() - t
    vad.speech_probs(x[:16000])  # warm the sessions once
    # 1) Features + model for every window, forced (even where the VAD hears no speech).
    c0 = time.process_time()
    probs = vad.speech_probs(x)
    blocks = [extract_lld(x[i : i + BLOCK + LOOKAHEAD]) for i in range(0, len(x) - BLOCK, BLOCK)]
    from attune.signals.voice.lld import Lld

    n_windows = 0
    for b in range(2, len(blocks)):
        lld = Lld.concat(blocks[b - 2 : b + 1])
        c_lo = (b - 2) * BLOCK // vad.CHUNK
        vec, _ = from_lld(lld, probs[c_lo : c_lo + 3 * BLOCK // vad.CHUNK], 3.0)
        if analyzer.model is not None:  # the prosody-only path has no model to run
            analyzer.model.predict(vec, analyzer.model.population, 0.5)
        n_windows += 1
    cpu_forced = time.process_time() - c0
    # 2) The live path: PCM16 frames of 20 ms through VoiceStream, latency per closed window.
    stream = VoiceStream(16000, 1, analyzer=analyzer, clock=lambda: 0.0)
    pcm = float_to_pcm16(x)
    step = 640  # 20 ms of PCM16
    lat: list[float] = []
    n_signals = 0
    c1 = time.process_time()
    for i in range(0, len(pcm), step):
        before = _consumed(stream)
        w0 = time.perf_counter()
        sigs = stream.feed(pcm[i : i + step])
        if _consumed(stream) != before:  # a block, hence a window, closed in this frame
            lat.append(time.perf_counter() - w0)
        n_signals += len(sigs)
    cpu_stream = time.process_time() - c1
    stream.close()
    lat_ms = np.asarray(lat) * 1000 if lat else np.zeros(1)
    return {
        "audio_s": round(dur, 2),
        "rtf_features_model": round(cpu_forced / dur, 5),
        "rtf_stream": round(cpu_stream / dur, 5),
        "windows": n_windows,
        "signals": n_signals,
        "window_latency_ms_p50": round(float(np.percentile(lat_ms, 50)), 2),
        "window_latency_ms_p95": round(float(np.percentile(lat_ms, 95)), 2),
        "window_latency_ms_max": round(float(lat_ms.max()), 2),
        "model_load_s": round(load_s, 3),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model": analyzer.source,
        "threads": {"onnxruntime": 1, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "target_rtf": 0.02,
    }


def _consumed(stream: Any) -> int:
    sess = stream.scratch.get("voice")
    ch = sess.channels.get("customer") if sess else None
    return ch.consumed if ch else 0

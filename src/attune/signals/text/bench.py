"""``attune bench text``: the full per-message text path (encoder, emotion, intent, sentiment).

Latency: one message at a time on one onnxruntime thread, with the encoder alone timed on the
same messages as the baseline. Throughput: batches of 16 on two worker threads. Medians over
repeated runs. Messages are generated here (no data set needed), 4 to ~40 words long.
"""

from __future__ import annotations

import os
import random
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

BATCH = 16
OPENERS = ["hi,", "hello", "hey there,", "so", "ok", "excuse me,", "", "", ""]
ASKS = [
    "I want to cancel my subscription",
    "where is my refund",
    "my order still hasn't arrived",
    "can I talk to a real person",
    "the app keeps crashing when I pay",
    "how do I change my delivery address",
    "thanks, that fixed it",
    "I was charged twice for the same thing",
    "I can't log into my account",
    "what payment methods do you accept",
]
TAILS = [
    "",
    "this is ridiculous",
    "please help",
    "I've been waiting for two weeks and nobody answers my emails",
    "thank you so much!",
    "honestly I'm really disappointed with the service so far",
    "I'm a bit worried because I need it for tomorrow",
    "I tried three times already and it still doesn't work, what am I supposed to do?",
]


def messages(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(OPENERS), rng.choice(ASKS), rng.choice(TAILS)]
        out.append(" ".join(p for p in parts if p).strip())
    return out


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _latency_run(models: Any, msgs: list[str]) -> tuple[list[float], list[float], float]:
    """Per message, interleaved: the whole read and the encoder alone (the baseline, so that
    both see the same CPU load). Returns both time lists (ms) and CPU ms per full read."""
    from attune.signals.text.reading import read_texts

    full, encoder, cpu = [], [], 0.0
    for m in msgs:
        t0 = time.perf_counter()
        models.encoder.features([m])
        encoder.append(1000 * (time.perf_counter() - t0))
        c0, t0 = time.process_time(), time.perf_counter()
        read_texts(models, [m])
        full.append(1000 * (time.perf_counter() - t0))
        cpu += time.process_time() - c0
    return full, encoder, 1000 * cpu / len(msgs)


def _throughput_run(models: Any, chunks: list[list[str]], n: int) -> tuple[float, float]:
    """Two workers share the single-thread models (onnxruntime releases the GIL and the
    sessions are thread-safe); this beat one 2-thread session with batches of 64."""
    from attune.signals.text.reading import read_texts

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda c: read_texts(models, c), chunks[:2]))
        t0, cpu0 = time.perf_counter(), time.process_time()
        list(pool.map(lambda c: read_texts(models, c), chunks))
        return n / (time.perf_counter() - t0), 1000 * (time.process_time() - cpu0) / n


def run_bench(
    n: int = 300, batch_n: int = 2000, pack: str = "customer_service", repeats: int = 3
) -> dict[str, Any]:
    """Medians over ``repeats`` runs; each run's figures are listed too."""
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts

    rss_before = _rss_mb()
    single = load_models((pack,), threads=1)
    msgs = messages(n)
    for m in msgs[:20]:  # warm-up
        read_texts(single, [m])
    bulk = messages(batch_n, seed=11)
    chunks = [bulk[i : i + BATCH] for i in range(0, len(bulk), BATCH)]
    runs = []
    for _ in range(max(1, repeats)):
        full, encoder, cpu_single = _latency_run(single, msgs)
        rate, cpu_batched = _throughput_run(single, chunks, len(bulk))
        runs.append(
            {
                "p50_ms": float(np.percentile(full, 50)),
                "p99_ms": float(np.percentile(full, 99)),
                "mean_ms": float(np.mean(full)),
                "encoder_only_p50_ms": float(np.percentile(encoder, 50)),
                "throughput_msgs_per_s": rate,
                "cpu_ms_per_message_single": cpu_single,
                "cpu_ms_per_message_batched": cpu_batched,
            }
        )
    med = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    p50, rate = med["p50_ms"], med["throughput_msgs_per_s"]
    return {
        "what": "text analyzer path per customer message: encoder + emotion + sentiment + "
        f"intent ({pack}); medians over {len(runs)} runs",
        # a pack with an encoder of its own adds a second transformer pass per message
        "pack_encoder": single.packs[pack].encoder_name,
        "n_latency": n,
        "repeats": len(runs),
        **{k: round(v, 1 if k.startswith("throughput") else 3) for k, v in med.items()},
        # the baseline, timed in the same runs: how much the heads, TF-IDF members and the
        # reading add to the transformer pass
        "p50_ratio_to_encoder_only": round(p50 / med["encoder_only_p50_ms"], 3),
        "runs_p50_ms": [round(r["p50_ms"], 3) for r in runs],
        "runs_throughput_msgs_per_s": [round(r["throughput_msgs_per_s"], 1) for r in runs],
        "throughput_batch": BATCH,
        "throughput_threads": 2,
        # CPU time is what the work costs; wall time also counts waiting for a shared CPU
        "throughput_if_2_idle_cores": round(2 * 1000 / med["cpu_ms_per_message_batched"], 1),
        "rss_mb": round(_rss_mb(), 1),
        "rss_models_mb": round(_rss_mb() - rss_before, 1),
        "targets": {"p50_ms": 5.0, "throughput_msgs_per_s": 300.0},
        "meets_targets": p50 <= 5.0 and rate >= 300.0,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }

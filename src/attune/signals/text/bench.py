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


DE_OPENERS = ["hallo,", "guten Tag,", "hi", "also", "ok", "entschuldigung,", "", "", ""]
DE_ASKS = [
    "ich möchte mein Abo kündigen",
    "wo bleibt meine Rückerstattung",
    "meine Bestellung ist immer noch nicht da",
    "kann ich mit einem Menschen sprechen",
    "die App stürzt beim Bezahlen ständig ab",
    "wie ändere ich meine Lieferadresse",
    "danke, jetzt klappt es",
    "mir wurde zweimal dasselbe abgebucht",
    "ich komme nicht in mein Konto",
    "welche Zahlungsarten akzeptieren Sie",
]
DE_TAILS = [
    "",
    "das ist lächerlich",
    "bitte helfen Sie mir",
    "ich warte seit zwei Wochen und niemand antwortet auf meine E-Mails",
    "vielen Dank!",
    "ehrlich gesagt bin ich vom Service bisher sehr enttäuscht",
    "ich mache mir etwas Sorgen, weil ich es morgen brauche",
    "ich habe es schon dreimal versucht und es geht immer noch nicht, was soll ich tun?",
]


def messages(n: int, seed: int = 7, lang: str = "en") -> list[str]:
    rng = random.Random(seed)
    openers, asks, tails = (
        (DE_OPENERS, DE_ASKS, DE_TAILS) if lang == "de" else (OPENERS, ASKS, TAILS)
    )
    out = []
    for _ in range(n):
        parts = [rng.choice(openers), rng.choice(asks), rng.choice(tails)]
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


def _latency_run(
    models: Any, msgs: list[str], german: list[str] | None = None, sequential: bool = False
) -> tuple[list[float], list[float], float, dict[str, list[float]]]:
    """Per message, interleaved: today's read (English model, no language ID), the encoder
    alone (the baseline, so that both see the same CPU load), with ``sequential`` the same
    read without the speculative pack pass and, where ``german`` is given, the routed reads
    (language ID + English model; language ID + the German route). Returns the time lists
    (ms), CPU ms per full read and the other time lists."""
    from attune.signals.text import speculation
    from attune.signals.text.reading import read_texts
    from attune.signals.text.tfidf import forget_grams

    def timed(text: str, route: bool) -> float:
        """One read of a message as if it were new: the n-gram cache (shared by the TF-IDF
        members within one read) is emptied first, or a second read of the same text would
        skip cutting it up and look faster."""
        forget_grams()
        t0 = time.perf_counter()
        read_texts(models, [text], route=route)
        return 1000 * (time.perf_counter() - t0)

    full, encoder, cpu = [], [], 0.0
    routed: dict[str, list[float]] = {"en": [], "de": [], "sequential": [], "early": []}
    for i, m in enumerate(msgs):
        t0 = time.perf_counter()
        models.encoder.features([m])
        encoder.append(1000 * (time.perf_counter() - t0))
        # the same read with the pack's own pass never started early, before or after it in
        # turn (a second read of a text finds warmer caches: ~0.1-0.2 ms faster)
        if sequential and i % 2:
            with speculation.forced(False):
                routed["sequential"].append(timed(m, False))
        c0, n0 = time.process_time(), speculation.STARTED["passes"]
        full.append(timed(m, False))
        cpu += time.process_time() - c0
        routed["early"].append(float(speculation.STARTED["passes"] > n0))
        if sequential and not i % 2:
            with speculation.forced(False):
                routed["sequential"].append(timed(m, False))
        if german is not None:
            routed["en"].append(timed(m, True))
            routed["de"].append(timed(german[i % len(german)], True))
    return full, encoder, 1000 * cpu / len(msgs), routed


def _throughput_run(
    models: Any, chunks: list[list[str]], n: int, route: bool = False
) -> tuple[float, float]:
    """Two workers share the single-thread models (onnxruntime releases the GIL and the
    sessions are thread-safe); this beat one 2-thread session with batches of 64."""
    from attune.signals.text.reading import read_texts

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda c: read_texts(models, c, route=route), chunks[:2]))
        t0, cpu0 = time.perf_counter(), time.process_time()
        list(pool.map(lambda c: read_texts(models, c, route=route), chunks))
        return n / (time.perf_counter() - t0), 1000 * (time.process_time() - cpu0) / n


def _german_route_ready() -> bool:
    from attune.models.runtime import ModelNotFound
    from attune.signals.text.multilingual import load_multilingual

    try:
        load_multilingual().encoder.features(["Hallo"])
    except (ModelNotFound, ImportError):
        return False
    return True


def second_pass_share(models: Any, pack: str, msgs: list[str]) -> float | None:
    """The share of ``msgs`` that take the pack's own encoder pass (None: a pack that reads
    only the shared encoder; 1.0: an own encoder without a cascade)."""
    model = models.packs[pack]
    if model.encoder_name not in models.own_encoders:
        return None
    if model.cascade is None:
        return 1.0
    own = models.own_encoders[model.encoder_name].features
    _, second = model.cascade_probs(msgs, models.encoder.features(msgs), own)
    return float(second.mean())


def read_messages(path: str) -> list[str]:
    """The ``text`` column of a CSV (``--messages``: latency on your own traffic)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return [t for row in csv.DictReader(fh) if (t := (row.get("text") or "").strip())]


def spread(texts: list[str], n: int) -> list[str]:
    """``n`` texts evenly spaced over ``texts`` (all of them when there are fewer)."""
    k = min(n, len(texts))
    return [texts[i * len(texts) // k] for i in range(k)]


def run_bench(
    n: int = 300,
    batch_n: int = 2000,
    pack: str = "customer_service",
    repeats: int = 3,
    texts: list[str] | None = None,
) -> dict[str, Any]:
    """Medians over ``repeats`` runs; each run's figures are listed too. ``texts``: the
    latency messages instead of generated ones (``n`` of them, spread over the list, since
    labelled files are often sorted by label)."""
    from attune.signals.text.models import load_models
    from attune.signals.text.reading import read_texts

    rss_before = _rss_mb()
    single = load_models((pack,), threads=1)
    msgs = spread(texts, n) if texts else messages(n)
    german = messages(n, lang="de") if _german_route_ready() else None
    for m in msgs[:20]:  # warm-up
        read_texts(single, [m], route=False)
        read_texts(single, [m])
    bulk = messages(batch_n, seed=11)
    chunks = [bulk[i : i + BATCH] for i in range(0, len(bulk), BATCH)]
    de_bulk = messages(max(BATCH, batch_n // 4), seed=11, lang="de")
    de_chunks = [de_bulk[i : i + BATCH] for i in range(0, len(de_bulk), BATCH)]
    runs, route_runs = [], []
    # a pack that can start its own pass early is also timed without it, in the same runs
    model = single.packs[pack]
    sequential = model.cascade is not None and model.encoder_name in single.own_encoders
    for _ in range(max(1, repeats)):
        full, encoder, cpu_single, routed = _latency_run(single, msgs, german, sequential)
        rate, cpu_batched = _throughput_run(single, chunks, len(bulk))
        if german is not None:
            de_rate, de_cpu = _throughput_run(single, de_chunks, len(de_bulk), route=True)
            today = float(np.percentile(full, 50))
            route_runs.append(
                {
                    "en_routed_p50_ms": float(np.percentile(routed["en"], 50)),
                    "de_p50_ms": float(np.percentile(routed["de"], 50)),
                    "de_p99_ms": float(np.percentile(routed["de"], 99)),
                    "en_routed_p50_ratio_to_today": float(np.percentile(routed["en"], 50)) / today,
                    "de_p50_ratio_to_today": float(np.percentile(routed["de"], 50)) / today,
                    "de_throughput_msgs_per_s": de_rate,
                    "de_throughput_ratio_to_today": de_rate / rate,
                    "de_cpu_ms_per_message_batched": de_cpu,
                }
            )
        runs.append(
            {
                "p50_ms": float(np.percentile(full, 50)),
                "p99_ms": float(np.percentile(full, 99)),
                "mean_ms": float(np.mean(full)),
                "encoder_only_p50_ms": float(np.percentile(encoder, 50)),
                "throughput_msgs_per_s": rate,
                "cpu_ms_per_message_single": cpu_single,
                "cpu_ms_per_message_batched": cpu_batched,
                **(
                    {
                        "p50_sequential_ms": float(np.percentile(routed["sequential"], 50)),
                        "pack_pass_started_early_share": float(np.mean(routed["early"])),
                    }
                    if sequential
                    else {}
                ),
            }
        )
    med = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    p50, rate = med["p50_ms"], med["throughput_msgs_per_s"]
    routes: dict[str, Any] = {"available": german is not None}
    if route_runs:
        routes.update(
            {k: round(float(np.median([r[k] for r in route_runs])), 3) for k in route_runs[0]}
        )
        routes["what"] = (
            "in the same runs, interleaved per message with today's read: en = language ID + "
            "today's English model; de = language ID + the German route (USE-m3 + heads), "
            "German messages of the same shape; ratios are to today's p50 / throughput"
        )
    return {
        "routes": routes,
        "what": "text analyzer path per customer message: encoder + emotion + sentiment + "
        f"intent ({pack}); medians over {len(runs)} runs",
        # a pack with an encoder of its own adds a second transformer pass per message, or,
        # with a cascade, for the share of the messages its quick stage is unsure of
        "pack_encoder": single.packs[pack].encoder_name,
        "pack_second_pass_share": second_pass_share(single, pack, msgs),
        # pack_pass_started_early_share: the timed reads that started the pack's own pass
        # beside the shared one (attune.signals.text.speculation: where it is needed for certain);
        # p50_sequential_ms: the same reads without that, in the same runs
        "messages": "generated" if not texts else "given (--messages)",
        "n_latency": len(msgs),
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

"""Realistic behaviour event streams for benchmarks (JSON bytes, many interleaved sessions)."""

from __future__ import annotations

import random

import orjson

PATHS = ("/product", "/cart", "/checkout/delivery", "/checkout/payment", "/help", "/pricing")


def behaviour_stream(n: int, sessions: int = 2000, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    clock = [1_767_000_000.0 + i for i in range(sessions)]
    out: list[bytes] = []
    for i in range(n):
        s = rng.randrange(sessions)
        clock[s] += rng.choice((0.2, 0.3, 1.5, 4.0))
        kind = rng.random()
        base = {
            "messageId": f"m{seed}-{i}",
            "anonymousId": f"user-{s}",
            "sessionId": f"b-{s}",
            "timestamp": clock[s],
            "context": {"channel": "web"},
        }
        if kind < 0.25:
            event = {"type": "page", "properties": {"path": rng.choice(PATHS)}, **base}
        elif kind < 0.75:
            event = {
                "type": "track",
                "event": "click",
                **base,
                "properties": {
                    "selector": rng.choice(("#pay", "#next", "#plan")),
                    "x": rng.randint(0, 50),
                    "y": 300,
                },
            }
        elif kind < 0.9:
            event = {
                "type": "track",
                "event": "scroll",
                **base,
                "properties": {"direction": rng.choice(("up", "down"))},
            }
        else:
            event = {
                "type": "track",
                "event": "field_edit",
                **base,
                "properties": {"field": rng.choice(("email", "card", "zip"))},
            }
        out.append(orjson.dumps(event))
    return out

"""Hot session state for workers: the engine's per-session runtime (fusion, policy, analyzer
scratch) kept in Redis between batches, so any worker can pick a session up after another
stopped. The in-memory dict inside the engine is the default and needs nothing."""

from __future__ import annotations

import pickle
from typing import Any


class RedisSessionCache:
    def __init__(self, url: str, ttl_s: int = 6 * 3600, prefix: str = "attune:") -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Redis session cache needs: pip install 'attune[scale]'"
            ) from exc
        self.client = redis.Redis.from_url(url)
        self.ttl_s = ttl_s
        # several deployments (or test runs) may share one Redis, each under its own prefix
        self.session_prefix = f"{prefix}session:"
        self.decision_prefix = f"{prefix}decision:"

    def load(self, session_ids: list[str]) -> dict[str, Any]:
        # The cache holds only what this deployment's own workers wrote (trusted data).
        values = (
            self.client.mget([self.session_prefix + s for s in session_ids]) if session_ids else []
        )
        return {
            s: pickle.loads(bytes(v))  # type: ignore[arg-type]  # bytes: no decode_responses
            for s, v in zip(session_ids, values, strict=True)
            if v
        }

    def save(self, runtimes: list[Any], decisions: dict[str, bytes]) -> None:
        pipe = self.client.pipeline()
        for rt in runtimes:
            pipe.set(self.session_prefix + rt.id, pickle.dumps(rt), ex=self.ttl_s)
        for sid, body in decisions.items():
            pipe.set(self.decision_prefix + sid, body, ex=self.ttl_s)
        pipe.execute()

    def decision(self, session_id: str) -> bytes | None:
        value = self.client.get(self.decision_prefix + session_id)
        return bytes(value) if value is not None else None  # type: ignore[arg-type]

    def forget(self, session_ids: list[str]) -> None:
        if session_ids:
            self.client.delete(
                *[self.session_prefix + s for s in session_ids],
                *[self.decision_prefix + s for s in session_ids],
            )

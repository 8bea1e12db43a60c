"""Pseudonymisation at the gate: subject ids become a keyed HMAC, never stored raw."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache


class Pseudonymizer:
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the pseudonym key must not be empty")
        self._key = key.encode()
        self._cached = lru_cache(maxsize=100_000)(self._compute)

    def _compute(self, raw_id: str) -> str:
        return hmac.new(self._key, raw_id.encode(), hashlib.sha256).hexdigest()[:32]

    def __call__(self, raw_id: str) -> str:
        return self._cached(raw_id)

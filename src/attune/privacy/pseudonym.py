"""Pseudonymisation at the gate: subject ids become a keyed HMAC, never stored raw.

Key rotation (see docs/privacy.md): configure the new key as the current one and keep the old
one in ``retired`` for as long as data made under it may still exist (at most the longest
retention TTL). New events get pseudonyms under the new key; ``aliases`` gives the pseudonyms
the same raw id had under retired keys, so the gate can carry consent, disclosure and
tombstones over (``ConsentLedger.adopt``) and subject rights find old rows. Dropping a retired
key makes its pseudonyms unlinkable for good.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import lru_cache

PLACEHOLDER = "change-me"  # the shipped default starts so; only demos and tests may run with it
MIN_KEY_CHARS = 16
GENERATE = "python -c 'import secrets; print(secrets.token_hex(32))'"


def key_problem(key: str) -> str | None:
    """Why ``key`` must not pseudonymise real data (the placeholder, or too short), with the
    command that makes a real one; None when it will do."""
    if key.startswith(PLACEHOLDER):
        what = "is the shipped placeholder"
    elif len(key) < MIN_KEY_CHARS:
        what = f"is shorter than {MIN_KEY_CHARS} characters"
    else:
        return None
    return (
        f"ATTUNE_PSEUDONYM_KEY {what}; generate a secret with {GENERATE} "
        "and set it as ATTUNE_PSEUDONYM_KEY (keep it: it links pseudonyms to people)"
    )


def _hmac(key: bytes, raw_id: str) -> str:
    return hmac.new(key, raw_id.encode(), hashlib.sha256).hexdigest()[:32]


class Pseudonymizer:
    def __init__(self, key: str, retired: Sequence[str] = ()) -> None:
        if not key:
            raise ValueError("the pseudonym key must not be empty")
        if key in retired:
            raise ValueError("the current pseudonym key is also listed as retired")
        self._key = key.encode()
        self._retired = tuple(k.encode() for k in retired if k)
        # The cache holds raw ids in memory only; ``forget`` clears it on erasure.
        self._cached = lru_cache(maxsize=100_000)(self._compute)

    def _compute(self, raw_id: str) -> str:
        return _hmac(self._key, raw_id)

    def __call__(self, raw_id: str) -> str:
        return self._cached(raw_id)

    @property
    def rotating(self) -> bool:
        return bool(self._retired)

    def aliases(self, raw_id: str) -> list[str]:
        """Pseudonyms of ``raw_id`` under the retired keys, newest first."""
        return [_hmac(k, raw_id) for k in self._retired]

    def all(self, raw_id: str) -> list[str]:
        return [self(raw_id), *self.aliases(raw_id)]

    def forget(self) -> None:
        self._cached.cache_clear()

    @property
    def fingerprint(self) -> str:
        """A short, non-reversible id of the current key (for the audit log, never the key)."""
        return hashlib.sha256(b"fp:" + self._key).hexdigest()[:12]

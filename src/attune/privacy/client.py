"""A small Python client for the trust API: consent is one call each way, as in the browser
tracker (``Attune.consent.grant/revoke``); the privacy officer's calls sit beside it.

    client = TrustClient("https://attune.internal", key="atn_...")
    client.grant("user-42", ["text", "voice"], source="ivr", text_version="c-2026-11")
    client.revoke("user-42", ["voice"])

From a server, use a ``server`` key. With a public (ingest) key the client behaves as the
browser tracker does: it keeps the session token Attune hands out for each visitor and sends it
with that visitor's later calls (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx


class TrustClient:
    def __init__(
        self,
        base_url: str = "",
        key: str = "",
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.tokens: dict[str, str] = {}  # visitor -> session token (public keys)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        user = str(body.get("userId") or "")
        headers = dict(self.headers)
        if user in self.tokens:
            headers["X-Attune-Session-Token"] = self.tokens[user]
        r = self.http.post(path, json=body, headers=headers)
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        if user and isinstance(out.get("sessionToken"), str):
            self.tokens[user] = out["sessionToken"]
        return out

    def grant(
        self,
        user_id: str,
        modalities: Sequence[str],
        source: str = "api",
        text_version: str | None = None,
        purpose: str = "cx_adaptation",
    ) -> dict[str, bool]:
        body = {
            "userId": user_id,
            "modalities": list(modalities),
            "source": source,
            "purpose": purpose,
            **({"textVersion": text_version} if text_version else {}),
        }
        consent: dict[str, bool] = self._post("/v1/consent/grant", body)["consent"]
        return consent

    def revoke(
        self,
        user_id: str,
        modalities: Sequence[str],
        source: str = "api",
        purpose: str = "cx_adaptation",
    ) -> dict[str, bool]:
        body = {
            "userId": user_id,
            "modalities": list(modalities),
            "source": source,
            "purpose": purpose,
        }
        consent: dict[str, bool] = self._post("/v1/consent/revoke", body)["consent"]
        return consent

    def disclosure(self, locale: str = "en") -> dict[str, Any]:
        r = self.http.get("/v1/disclosure", params={"locale": locale}, headers=self.headers)
        r.raise_for_status()
        out: dict[str, Any] = r.json()
        return out

    def acknowledge(self, user_id: str, version: str) -> dict[str, Any]:
        return self._post("/v1/disclosure/acknowledge", {"userId": user_id, "version": version})

    def export(self, user_id: str) -> dict[str, Any]:
        return self._post("/v1/privacy/export", {"userId": user_id})

    def erase(self, user_id: str) -> dict[str, Any]:
        return self._post("/v1/privacy/erase", {"userId": user_id})

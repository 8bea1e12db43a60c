"""Start ``attune serve`` in a child process on a free loopback port (demo, HTTP bench, end-to-end
tests), its database holding the shipped playbooks approved by a simulated reviewer."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class RunningServer:
    base_url: str
    admin_key: str
    process: subprocess.Popen[bytes]
    database_url: str = ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def approve_for_simulation(database_url: str, playbook_dir: Path | None = None) -> list[str]:
    """Review the playbooks in a simulation's own database, as two people would (author and
    reviewer are simulated and named so in the audit log): without an approval they would not
    run. Returns the approved playbook versions."""
    from attune.policy.approval import Governance
    from attune.policy.loader import load_dir
    from attune.privacy.audit import AuditLog
    from attune.storage.store import Store

    store = Store(database_url)
    try:
        governance = Governance(store, AuditLog(store))
        approved = []
        for lp in load_dir(playbook_dir):
            governance.submit(lp, "simulation-author")
            governance.approve(lp, "simulation-reviewer", has_role=True)
            approved.append(lp.playbook.key)
        return approved
    finally:
        store.close()


@contextlib.contextmanager
def child_server(
    database_url: str, *extra: str, timeout_s: float = 60.0, env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    approve_for_simulation(database_url)
    port = free_port()
    key = "atn_" + secrets.token_urlsafe(24)
    child_env = {
        # A throwaway key per simulated server (its database is throwaway too): serve refuses
        # the placeholder, and a demo must not need a secret.
        "ATTUNE_PSEUDONYM_KEY": secrets.token_hex(32),
        **os.environ,
        **(env or {}),
        "ATTUNE_BOOTSTRAP_ADMIN_KEY": key,
        "ATTUNE_DATABASE_URL": database_url,
    }
    cmd = [sys.executable, "-m", "attune", "serve", "--port", str(port), *extra]
    # The service logs every request to stderr: a file, not a pipe nobody reads while it
    # runs (a full pipe would block the service).
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(cmd, env=child_env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                raise RuntimeError(f"the service did not start: {err[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not answer within the start timeout")
            time.sleep(0.2)
        yield RunningServer(base, key, process, database_url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # graceful: flushes buffered rows
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()

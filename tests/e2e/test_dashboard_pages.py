"""Dashboard pages in headless Chromium against the real service, with data and empty:
KPIs as tables with numbers, the experiments page with its read-out, the journey map, governance,
and empty states that say why. Screenshots are written to the test's tmp dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from attune.measure.defaults import checkout_definition
from attune.sim.assumptions import Assumptions
from attune.sim.driver import drive
from attune.sim.server import RunningServer, child_server
from attune.sim.shoppers import sessions_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXP = "dash-exp"


def _chrome(chromium: str, tmp: Path, url: str, shot: Path | None = None) -> str:
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=20000",  # virtual: idle time passes at once
    ]
    if shot is not None:
        args += ["--window-size=1280,1000", f"--screenshot={shot}"]
    else:
        args += ["--dump-dom"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=90, check=True)
    return out.stdout


def _page(server: RunningServer, tab: str) -> str:
    return f"{server.base_url}/dashboard#tab={tab}&key={server.admin_key}"


def test_dashboard_pages_with_data(chromium: str, tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 'd.db'}", "--experiment", EXP) as server:
        auth = {"Authorization": f"Bearer {server.admin_key}"}
        body = {**checkout_definition(EXP).to_dict(), "id": EXP}
        assert httpx.post(f"{server.base_url}/v1/experiments", json=body, headers=auth).is_success
        _, shoppers = sessions_for(40, 3, 1_767_000_000.0, Assumptions(returning_share=0.0))
        drive(server.base_url, server.admin_key, shoppers)
        kpis = _chrome(chromium, tmp_path, _page(server, "kpis"))
        exps = _chrome(chromium, tmp_path, _page(server, "experiments"))
        journey = _chrome(chromium, tmp_path, _page(server, "journey"))
        gov = _chrome(chromium, tmp_path, _page(server, "governance"))
        for tab in ("kpis", "experiments", "journey"):
            _chrome(chromium, tmp_path, _page(server, tab), tmp_path / f"{tab}.png")
    assert "KPIs beside the emotional layer" in kpis and "Dropout per step" in kpis
    assert '<td class="num">40</td>' in kpis or ">40<" in kpis  # sessions, as a number
    assert "{" not in kpis.split("<main")[1].split("</main>")[0]  # no raw JSON
    assert EXP in exps and "draft" in exps
    assert "dropout: adaptive" in exps  # the read-out (verdict with its interval) is embedded
    assert "How states change from step to step" in journey and "/checkout/payment" in journey
    assert "Verified: the hash chain is intact" in gov
    for tab in ("kpis", "experiments", "journey"):
        assert (tmp_path / f"{tab}.png").stat().st_size > 10_000  # a rendered page, not blank


def test_dashboard_pages_empty_say_why(chromium: str, tmp_path: Path) -> None:
    with child_server(f"sqlite:///{tmp_path / 'e.db'}") as server:
        kpis = _chrome(chromium, tmp_path, _page(server, "kpis"))
        exps = _chrome(chromium, tmp_path, _page(server, "experiments"))
        journey = _chrome(chromium, tmp_path, _page(server, "journey"))
        live = _chrome(chromium, tmp_path, _page(server, "live"))
        _chrome(chromium, tmp_path, _page(server, "experiments"), tmp_path / "empty.png")
    assert "No sessions stored yet" in kpis
    assert "No experiment is registered" in exps and "POST /v1/experiments" in exps
    assert "No journey yet" in journey
    assert "0 live sessions" in live and "Earlier sessions are in the store" in live
    assert (tmp_path / "empty.png").stat().st_size > 5_000

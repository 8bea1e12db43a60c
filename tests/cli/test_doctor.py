"""``attune doctor`` tells an operator what is configured, reachable, loaded and approved."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from attune.cli import app


def doctor(env: dict[str, str]) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["doctor", "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


def test_a_fresh_install_says_what_to_do(tmp_path: Path) -> None:
    code, report = doctor({"ATTUNE_DATABASE_URL": str(tmp_path / "none.db")})
    assert code == 0 and "attune serve creates it" in report["reachable"]["database"]
    assert not (tmp_path / "none.db").exists()  # the doctor creates nothing
    assert report["playbooks"] and not report["playbooks"][0]["approved"]
    assert any("governance approve" in step for step in report["next"])
    assert any(m["name"] == "text-emotion" and m["licence"] for m in report["models"])


def test_an_existing_database_with_an_approved_playbook(tmp_path: Path) -> None:
    from attune.sim.server import approve_for_simulation

    url = f"sqlite:///{tmp_path / 'a.db'}"
    approve_for_simulation(url)
    code, report = doctor({"ATTUNE_DATABASE_URL": url})
    assert code == 0 and report["reachable"]["database"] == "ok"
    assert all(p["approved"] and p["runs"] for p in report["playbooks"])
    assert not any("governance approve" in step for step in report["next"])


def test_an_unreachable_stream_is_a_failure(tmp_path: Path) -> None:
    code, report = doctor(
        {
            "ATTUNE_DATABASE_URL": str(tmp_path / "x.db"),
            "ATTUNE_TRANSPORT": "nats",
            "ATTUNE_NATS_URL": "nats://127.0.0.1:1",
        }
    )
    assert code == 1 and report["reachable"]["nats"].startswith("nothing answers")
    assert any(step.startswith("start NATS") for step in report["next"])

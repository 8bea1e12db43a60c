"""`attune bench text --json`: one JSON object with latency, throughput and memory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from attune.cli import app
from attune.signals.text.bench import messages, read_messages, spread


def test_generated_messages_are_varied_and_seeded() -> None:
    a, b = messages(50), messages(50)
    assert a == b and len(set(a)) > 20
    assert all(4 <= len(m.split()) <= 45 for m in a)


def test_bench_cli_prints_one_json_object() -> None:
    args = ["bench", "text", "--json", "--n", "20", "--batch-n", "64", "--repeats", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n_latency"] == 20 and out["repeats"] == 2 and len(out["runs_p50_ms"]) == 2
    assert 0 < out["p50_ms"] <= out["p99_ms"]
    assert min(out["runs_p50_ms"]) <= out["p50_ms"] <= max(out["runs_p50_ms"])
    # no timing comparison here (a shared machine): the same-run baseline is reported
    assert out["encoder_only_p50_ms"] > 0 and out["p50_ratio_to_encoder_only"] > 0
    assert out["throughput_msgs_per_s"] > 0 and out["rss_mb"] > 0
    assert out["targets"] == {"p50_ms": 5.0, "throughput_msgs_per_s": 300.0}


def test_bench_refuses_zero_repeats_without_a_traceback() -> None:
    result = CliRunner().invoke(app, ["bench", "text", "--json", "--repeats", "0"])
    assert result.exit_code != 0
    assert "--repeats must be at least 1" in result.output
    assert "Traceback" not in result.output


def test_bench_reports_the_german_route_beside_today() -> None:
    args = ["bench", "text", "--json", "--n", "10", "--batch-n", "64", "--repeats", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    routes = json.loads(result.stdout)["routes"]
    assert routes["available"] is True
    assert routes["de_p50_ms"] > 0 and routes["de_p50_ratio_to_today"] > 0
    assert routes["en_routed_p50_ms"] > 0 and routes["de_throughput_msgs_per_s"] > 0


def test_bench_times_given_messages_spread_over_the_file(tmp_path: Path) -> None:
    rows = [f"where is my parcel number {i}" for i in range(40)]
    path = tmp_path / "msgs.csv"
    path.write_text("text,labels\n" + "\n".join(f"{r},x" for r in rows) + "\n", encoding="utf-8")
    assert read_messages(str(path)) == rows
    assert spread(rows, 4) == [rows[0], rows[10], rows[20], rows[30]] and spread(rows, 99) == rows
    args = ["bench", "text", "--json", "--n", "8", "--batch-n", "32", "--repeats", "1"]
    result = CliRunner().invoke(app, [*args, "--messages", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["messages"] == "given (--messages)" and out["n_latency"] == 8
    assert out["pack_second_pass_share"] is None  # customer_service reads the shared encoder
    (tmp_path / "empty.csv").write_text("text\n", encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--messages", str(tmp_path / "empty.csv")])
    assert result.exit_code != 0 and "no texts in a 'text' column" in result.output


def test_bench_times_a_pack_with_its_own_encoder_with_and_without_the_early_pass() -> None:
    args = ["bench", "text", "--json", "--n", "12", "--batch-n", "32", "--repeats", "1"]
    result = CliRunner().invoke(app, [*args, "--pack", "banking"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["pack_encoder"] == "text-encoder-banking"
    assert 0 < out["pack_second_pass_share"] <= 1
    assert out["p50_sequential_ms"] > 0 and 0 <= out["pack_pass_started_early_share"] <= 1
    plain = CliRunner().invoke(app, args)
    assert "p50_sequential_ms" not in json.loads(plain.stdout)  # one encoder: nothing to start

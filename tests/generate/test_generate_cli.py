"""`quadiv generate` through a Typer app: output rows, JSON report, errors, --measure, and kill + --resume."""
from __future__ import annotations

import importlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import typer
from conftest import sample_words
from typer.testing import CliRunner

from quadiv.cli._common import as_flags
from quadiv.cli.generate import generate_command
from quadiv.errors import UsageError
from quadiv.generate import BACKENDS, journal_path
from quadiv.generate._runner import prompt_seed

# What quadiv.cli does: register the command on the real app and run its main (errors -> one line, exit 2).
SCRIPT = """
from quadiv import cli
from quadiv.cli.generate import generate_command
cli.app.command("generate")(generate_command)
cli.main()
"""


def app() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("generate")(generate_command)
    return app


def invoke(*args: str):
    return CliRunner().invoke(app(), ["generate", *map(str, args)])


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(6)))
    return path


def read_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_report_and_rows(fake_openai, prompts_file, tmp_path):
    _, url = fake_openai()
    out = tmp_path / "out.jsonl"
    result = invoke(prompts_file, "--backend", "openai", "--model", "m", "--base-url", url, "--n", 2, "--seed", 4,
                    "--param", "temperature=0.5", "--param", "max-tokens=64", "-o", out, "--json", "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("rows", "prompts", "n", "strategy", "backend", "model", "generated")} == {
        "rows": 12, "prompts": 6, "n": 2, "strategy": "sampling", "backend": "openai", "model": "m", "generated": 12}
    assert report["params"]["temperature"] == 0.5 and report["usage"]["requests"] >= 6
    rows = read_rows(out)
    assert [r["id"] for r in rows[:3]] == ["q0/0", "q0/1", "q1/0"]
    assert rows[3]["text"] == " ".join(sample_words("question 1", prompt_seed(4, "q1"), 1, 64))
    assert "metrics" not in report and not journal_path(out).exists()


def test_text_prompts_and_the_human_summary(fake_openai, tmp_path):
    _, url = fake_openai(n_mode="ignore")
    prompts = tmp_path / "p.txt"
    prompts.write_text("one\n\ntwo\n")
    out = tmp_path / "out.jsonl"
    result = invoke(prompts, "-b", "openai", "-m", "m", "--base-url", url, "-n", 2, "-o", out)
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout and "generated now" in result.stdout
    assert [r["id"] for r in read_rows(out)] == ["1/0", "1/1", "3/0", "3/1"]


def test_measure_reports_the_metrics_of_the_outputs(fake_openai, prompts_file, tmp_path, monkeypatch):
    from quadiv.measure import measure

    def fake_embed(texts, embedder="static", **options):
        assert embedder == "static"
        vectors = np.array([[hash(w) % 97 for w in t.split()[:4]] + [0] * (4 - len(t.split()[:4])) for t in texts],
                           dtype=np.float32) + 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    monkeypatch.setattr(importlib.import_module("quadiv.embed"), "embed", fake_embed)
    _, url = fake_openai()
    out = tmp_path / "out.jsonl"
    result = invoke(prompts_file, "-b", "openai", "-m", "m", "--base-url", url, "-n", 3, "-o", out, "--measure", "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    rows = read_rows(out)
    texts = [r["text"] for r in rows]
    expected = measure(fake_embed(texts), texts, input_ids=np.array([r["prompt_id"] for r in rows], dtype=object))
    assert metrics == pytest.approx(expected["metrics"], nan_ok=True)
    assert {"per_input_vendi", "across_input_vendi", "per_input_distinct_2", "vendi"} <= set(metrics)


@pytest.mark.parametrize("args, message", [
    (["--backend", "nope"], "unknown backend 'nope'; choose one of: .*openai"),
    (["--backend", "openai", "--strategy", "nope"], "unknown strategy 'nope'"),
    (["--backend", "openai", "--param", "temperature"], "NAME=VALUE"),
    (["--backend", "openai", "--param", "temperature=-1"], "temperature >= 0"),
    (["--backend", "local-test", "--base-url", "http://x"], "--base-url is for --backend openai"),
    (["--backend", "local-test", "--capabilities", "seed"], "--capabilities is for --backend openai"),
    (["--backend", "openai", "--capabilities", "seed,json"], "unknown capability 'json'"),
    (["--backend", "openai", "--avoid", "pool.jsonl"], "--avoid needs --novelty"),
])
def test_usage_errors(prompts_file, tmp_path, monkeypatch, args, message):
    monkeypatch.setitem(BACKENDS, "local-test", lambda model, concurrency=1: None)
    result = invoke(prompts_file, "-m", "m", "-o", tmp_path / "o.jsonl", *args)
    assert isinstance(result.exception, UsageError) and re.search(message, as_flags(str(result.exception)))


@pytest.mark.parametrize("output, extra, message", [
    ("prompts.jsonl", [], "is the input file .*prompts.jsonl"),
    ("avoid.jsonl", ["--novelty", "0.5", "--avoid", "avoid.jsonl"], "is the input file .*avoid.jsonl"),
    ("avoid.jsonl", ["--strategy", "negative", "--param", "avoid=avoid.jsonl"], "is the input file .*avoid.jsonl"),
    ("prompts", [], "the input .*prompts.journal is where the journal of --output prompts goes"),
    ("o.jsonl.journal", [], "names a journal"),
    ("missing/o.jsonl", [], "the folder of .*missing/o.jsonl does not exist"),
])
def test_an_output_that_would_overwrite_an_input_is_refused_before_any_work(
        prompts_file, tmp_path, monkeypatch, output, extra, message):
    (tmp_path / "avoid.jsonl").write_text(json.dumps({"output": "alpha"}) + "\n")
    if output == "prompts":  # the prompts file is named like the journal of OUT
        prompts_file = prompts_file.rename(tmp_path / "prompts.journal")
    monkeypatch.setitem(BACKENDS, "never", lambda model: pytest.fail("the backend was built"))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.chdir(tmp_path)
    result = invoke(prompts_file, "-b", "never", "-m", "m", "-o", output, *extra)
    assert isinstance(result.exception, UsageError) and re.search(message, as_flags(str(result.exception)))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("option, message", [
    ("device", "--backend-option expects NAME=VALUE"),
    ("colour=red", "backend 'openai' has no option 'colour'; its options are: base_url, api_key, concurrency"),
])
def test_backend_option_errors(prompts_file, tmp_path, option, message):
    result = invoke(prompts_file, "-b", "openai", "-m", "m", "-o", tmp_path / "o.jsonl", "--backend-option", option)
    assert isinstance(result.exception, UsageError) and re.search(message, as_flags(str(result.exception)))


def test_novelty_wraps_the_strategy_and_rejects_near_copies_of_the_avoid_pool(
        fake_openai, prompts_file, tmp_path, monkeypatch):
    def word_embed(texts, embedder="static", **options):  # bag of the first word: same first word = cosine 1
        vectors = np.array([[float(t.split()[0] == w) for w in ("alpha", "beta")] + [1e-3] for t in texts])
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    monkeypatch.setattr(importlib.import_module("quadiv.embed"), "embed", word_embed)
    _, url = fake_openai()
    avoid = tmp_path / "avoid.jsonl"
    avoid.write_text(json.dumps({"output": "alpha"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = invoke(prompts_file, "-b", "openai", "-m", "m", "--base-url", url, "-n", 2, "-o", out,
                    "--novelty", 0.5, "--avoid", avoid, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["strategy"] == "novelty" and report["params"]["novelty"]["threshold"] == 0.5
    rows = read_rows(out)
    assert len(rows) == 12 and all("max_similarity" in r and "retries" in r for r in rows)


def test_a_leftover_journal_needs_resume(fake_openai, prompts_file, tmp_path):
    _, url = fake_openai()
    out = tmp_path / "out.jsonl"
    journal_path(out).write_text('{"journal": "quadiv-generate-journal", "settings": {}}\n'
                                 '{"prompt_id": "q0", "sample": 0, "text": "done"}\n')
    result = invoke(prompts_file, "-b", "openai", "-m", "m", "--base-url", url, "-o", out)
    assert isinstance(result.exception, UsageError) and "--resume" in as_flags(str(result.exception))


def run_cli(tmp_path, *args: str, **popen) -> subprocess.Popen:
    script = tmp_path / "quadiv_cli.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OPENAI_API_KEY": "sk-secret-test-key"}
    return subprocess.Popen([sys.executable, str(script), "generate", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def test_a_refusal_is_one_line_and_exit_code_2(fake_openai, prompts_file, tmp_path):
    _, url = fake_openai(api_key="sk-other")
    proc = run_cli(tmp_path, prompts_file, "-b", "openai", "-m", "m", "--base-url", url, "-o", tmp_path / "o.jsonl")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and "401" in stderr and "'m'" in stderr
    assert "sk-secret-test-key" not in stderr


def test_killed_run_resumes_to_exactly_every_row_once(fake_openai, tmp_path):
    """20% HTTP 500 and 10% stalls; SIGKILL after ~2 s (or a third of the rows); --resume ends with every row once."""
    server, url = fake_openai(fail_rate=0.2, stall_rate=0.1, latency=0.05, seed=1)
    prompts, n = 40, 3
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"write about topic {i}\n" for i in range(prompts)))
    out = tmp_path / "out.jsonl"
    args = [path, "-b", "openai", "-m", "m", "--base-url", url, "-n", n, "--seed", 9, "--concurrency", 4,
            "--timeout", 0.5, "-o", out, "--quiet", "--json"]
    first = run_cli(tmp_path, *args)
    started = time.monotonic()
    while _row_lines(journal_path(out)) < 1 or (time.monotonic() - started < 2
                                                and _row_lines(journal_path(out)) < prompts * n // 3):
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not out.exists()
    done_before = _row_lines(journal_path(out))
    assert 1 <= done_before < prompts * n

    second = run_cli(tmp_path, *args, "--resume")
    stdout, stderr = second.communicate(timeout=60)
    assert second.returncode == 0, stderr
    report = json.loads(stdout)
    rows = read_rows(out)
    keys = [(r["prompt_id"], r["sample"]) for r in rows]
    assert keys == [(p, s) for p in range(1, prompts + 1) for s in range(n)]
    assert all(r["text"].strip() for r in rows)
    assert [r["text"] for r in rows] == [
        " ".join(sample_words(f"write about topic {p - 1}", prompt_seed(9, p), s, 512)) for p, s in keys]
    assert report["resumed"] == done_before and report["resumed"] + report["generated"] == prompts * n
    assert {500} <= set(server.statuses) and not journal_path(out).exists()


def _row_lines(path) -> int:
    """Complete row lines in a journal (the header and a torn last line not counted)."""
    if not path.exists():
        return 0
    return max(0, path.read_bytes().count(b"\n") - 1)


def test_declared_capabilities_skip_the_probe(fake_openai, prompts_file, tmp_path):
    server, url = fake_openai()
    out = tmp_path / "out.jsonl"
    result = invoke(prompts_file, "-b", "openai", "-m", "m", "--base-url", url, "-n", 2, "-o", out,
                    "--capabilities", "seed, structured_output", "--quiet")
    assert result.exit_code == 0, result.output
    assert len(read_rows(out)) == 12 and len(server.requests) == 12  # no probe; n_samples not declared: n=1 each
    assert all(r["max_tokens"] != 1 and "n" not in r and "seed" in r for r in server.requests)


def test_a_refused_connection_without_key_is_one_line_naming_url_and_key(prompts_file, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    script = tmp_path / "quadiv_cli.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "QUADIV_API_KEY", "OPENAI_BASE_URL")}
    proc = subprocess.run([sys.executable, str(script), "generate", str(prompts_file), "-b", "openai", "-m", "m",
                           "--base-url", url, "-o", str(tmp_path / "o.jsonl")], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2 and proc.stdout == "" and proc.stderr.count("\n") == 1
    assert f"{url}/chat/completions" in proc.stderr and "cannot connect" in proc.stderr
    assert "no API key was found" in proc.stderr and "overloaded" not in proc.stderr

"""`python -m quadiv generate` with a tiny local transformers model: clean failures, Ctrl-C, resume, seeds."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_generate_cli import _row_lines, invoke, read_rows
from tiny_lm import save_prompt_blind_lm, save_tiny_lm

from quadiv.errors import UsageError
from quadiv.generate import journal_path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_lm(tmp_path_factory.mktemp("models") / "tiny", seed=0)


def prompts_file(path, k: int):
    path.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"the cat {i}"}) + "\n" for i in range(k)))
    return path


def quadiv(*args, **popen) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "quadiv", "generate", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


@pytest.mark.parametrize("strategy, params", [
    ("verbalized", ["max_tokens=96"]),
    ("div-se", ["max_tokens=32"]),
    ("idiv-se", ["max_tokens=32"]),
    ("plan", ["max_tokens=32"]),
])
def test_a_strategy_that_fails_on_a_local_model_exits_2_with_one_line(tiny_model, tmp_path, strategy, params):
    """The other prompts' jobs are still running when one fails: they are cancelled and joined, no abort."""
    out = tmp_path / "out.jsonl"
    args = [prompts_file(tmp_path / "p.jsonl", 6), "-b", "transformers", "-m", tiny_model, "-s", strategy, "-n", 2,
            "-o", out, "--quiet"]
    for param in params:
        args += ["--param", param]
    proc = quadiv(*args)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "terminate called" not in stderr and stdout == ""
    assert not out.exists() and not journal_path(out).exists()  # no row: no journal left behind


def test_ctrl_c_exits_130_leaves_no_output_and_resume_finishes(tiny_model, tmp_path):
    out = tmp_path / "out.jsonl"
    args = [prompts_file(tmp_path / "p.jsonl", 40), "-b", "transformers", "-m", tiny_model, "-n", 2,
            "--param", "max_tokens=48", "--concurrency", 4, "-o", out, "--quiet", "--json"]
    first = quadiv(*args)
    while _row_lines(journal_path(out)) < 1:
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 130 and "interrupted" in stderr and stderr.count("\n") == 1, stderr
    assert not out.exists() and _row_lines(journal_path(out)) >= 1
    done_before = _row_lines(journal_path(out))

    second = quadiv(*args, "--resume")
    stdout, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["resumed"] == done_before and report["rows"] == 80
    assert [(r["prompt_id"], r["sample"]) for r in read_rows(out)] == [(f"q{p}", s) for p in range(40) for s in (0, 1)]
    assert not journal_path(out).exists()


def test_a_run_that_fails_before_any_row_leaves_no_journal_and_does_not_block_the_next(tmp_path):
    out = tmp_path / "out.jsonl"
    for _ in range(2):
        result = invoke(prompts_file(tmp_path / "p.jsonl", 3), "-b", "transformers", "-m", tmp_path / "no-such-model",
                        "-o", out, "--quiet")
        assert isinstance(result.exception, UsageError) and "cannot load" in str(result.exception)
        assert not journal_path(out).exists() and not out.exists()


def test_prompts_get_their_own_seeds_so_a_prompt_blind_model_gives_distinct_texts(tmp_path):
    model = save_prompt_blind_lm(tmp_path / "blind")
    out = tmp_path / "out.jsonl"
    result = invoke(prompts_file(tmp_path / "p.jsonl", 5), "-b", "transformers", "-m", model, "-n", 3,
                    "--param", "max_tokens=8", "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    texts = [r["text"] for r in read_rows(out)]
    assert len(texts) == 15 and len(set(texts)) == 15

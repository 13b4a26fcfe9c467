"""`quadiv search` end to end against a local OpenAI-compatible server; resume; bad configs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from toy_domain import SEEDS
from toy_server import ToyServer

from quadiv import cli


@pytest.fixture
def server():
    started = ToyServer()
    yield started
    started.stop()


def write_config(tmp_path: Path, url: str, algorithm: str = "qdaif", budget: int = 60, extra: str = "",
                 axes: str | None = None, embedder: str = "none") -> Path:
    axes = axes if axes is not None else f'''
[[axes]]
name = "red"
bins = 10
range = [0, 1]
describe = {{ scorer = "judge:toy", params = {{ mode = "yesno", prompt = "RED?\\n{{response}}\\nAnswer:", base_url = "{url}", capabilities = "chat,top_logprobs" }} }}

[[axes]]
name = "blue"
bins = 10
range = [0, 1]
describe = {{ scorer = "judge:toy", params = {{ mode = "yesno", prompt = "BLUE?\\n{{response}}\\nAnswer:", base_url = "{url}", capabilities = "chat,top_logprobs" }} }}
'''
    path = tmp_path / "search.toml"
    path.write_text(f'''algorithm = "{algorithm}"
domain = "toy texts"
budget = {budget}
seed = 3
seeds = {json.dumps(SEEDS)}

[mutator]
model = "toy"
base_url = "{url}"
capabilities = "chat,n_samples,seed"
batch = 3

[fitness]
scorer = "judge:toy"
params = {{ mode = "yesno", prompt = "QUALITY?\\n{{response}}\\nAnswer:", base_url = "{url}", capabilities = "chat,top_logprobs" }}
{axes}
[metrics]
embedder = "{embedder}"
{extra}''')
    return path


class Result:
    def __init__(self, code, out, err):
        self.exit_code, self.stdout, self.stderr = code, out, err
        self.output = out + err


@pytest.fixture
def invoke(monkeypatch, capsys):
    """Run `quadiv ARGS` in this process through `main()`, as a user's shell would."""
    def run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["quadiv", *args])
        with pytest.raises(SystemExit) as done:
            cli.main()
        out = capsys.readouterr()
        return Result(done.value.code, out.out, out.err)
    return run


def read_archive(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_qdaif_search_writes_the_archive_and_its_summary(tmp_path, server, invoke):
    config = write_config(tmp_path, server.url, embedder="static")
    out = tmp_path / "archive.jsonl"
    result = invoke("search", "--config", str(config), "-o", str(out), "--json", "--report", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = read_archive(out)
    summary = json.loads((tmp_path / "archive.search.json").read_text())
    assert (tmp_path / "r.html").read_text().count("<svg") >= 1 and report["report"] == str(tmp_path / "r.html")
    assert report["evaluations"] == 60 and report["stats"]["num_elites"] == len(rows) > 5
    assert {"text", "cell", "cell_index", "fitness", "descriptors", "parent", "iteration"} <= set(rows[0])
    assert summary["kind"] == "search" and summary["complete"] and summary["history"][-1]["evaluations"] == 60
    assert [a["name"] for a in summary["axes"]] == ["red", "blue"] and len(summary["axes"][0]["labels"]) == 10
    assert summary["stats"]["vendi"] > 1 and summary["stats"]["qd_score"] == pytest.approx(report["stats"]["qd_score"])
    table = (tmp_path / "archive.history.csv").read_text().splitlines()
    assert table[0].startswith("iteration,evaluations,calls,qd_score") and len(table) == len(summary["history"]) + 1
    assert (tmp_path / "archive.jsonl.journal").exists()  # kept: --resume --budget N searches further
    again = invoke("search", "--config", str(config), "-o", str(out))
    assert again.exit_code == 2 and "already exists" in again.output and "--resume" in again.output
    more = invoke("search", "--config", str(config), "-o", str(out), "--resume", "--budget", "90", "--json")
    assert more.exit_code == 0 and json.loads(more.stdout)["evaluations"] == 90


@pytest.mark.parametrize("algorithm", ["rainbow", "rainbowplus", "ferret"])
def test_the_rewrite_algorithms_run_with_target_cells(tmp_path, server, algorithm, invoke):
    axes = '''
[[axes]]
name = "red"
categories = ["0", "1", "2", "3", "4"]

[[axes]]
name = "blue"
categories = ["0", "1", "2", "3", "4"]
'''
    config = write_config(tmp_path, server.url, algorithm, budget=40, axes=axes,
                          extra="[filter]\nsimilarity = 0.95\n")
    out = tmp_path / "a.jsonl"
    result = invoke("search", "--config", str(config), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    rows = read_archive(out)
    assert rows and all(r["cell"] == r["target"] for r in rows)  # descriptors are the target cells


def test_a_killed_search_resumes_to_the_same_archive(tmp_path, server, invoke):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir()
    cut.mkdir()
    config = write_config(tmp_path, server.url, budget=90)
    assert invoke("search", "--config", str(config), "-o", str(whole / "a.jsonl")).exit_code == 0
    env = {**os.environ, "QUADIV_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen([sys.executable, "-m", "quadiv", "search", "--config", str(config), "-o",
                                str(cut / "a.jsonl"), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    journal = cut / "a.jsonl.journal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 6):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    lines = len(journal.read_text().splitlines())
    assert 6 <= lines < 31, "the search must be killed mid-run"  # 1 header + 30 iterations of 3
    result = invoke("search", "--config", str(config), "-o", str(cut / "a.jsonl"), "--resume", "--json")
    assert result.exit_code == 0, result.output
    assert read_archive(cut / "a.jsonl") == read_archive(whole / "a.jsonl")
    first, second = (json.loads((d / "a.search.json").read_text()) for d in (whole, cut))
    assert first["history"] == second["history"]


def test_a_second_run_without_resume_is_refused(tmp_path, server, invoke):
    config = write_config(tmp_path, server.url, budget=30)
    out = tmp_path / "a.jsonl"
    journal = Path(str(out) + ".journal")
    journal.write_text('{"journal": "quadiv-generate-journal", "settings": {}}\n{"iteration": 0, "evaluations": 4, '
                       '"children": [], "history": {"calls": 0}}\n')
    result = invoke("search", "--config", str(config), "-o", str(out))
    assert result.exit_code == 2 and "--resume" in result.output


def test_a_judge_without_logprobs_is_refused_before_the_first_request(tmp_path, invoke):
    quiet = ToyServer(logprobs=False)
    try:
        config = write_config(tmp_path, quiet.url)
        text = config.read_text().replace('capabilities = "chat,top_logprobs"', 'capabilities = "chat"')
        config.write_text(text)
        result = invoke("search", "--config", str(config), "-o", str(tmp_path / "a.jsonl"))
        assert result.exit_code == 2 and "logprobs" in result.output and "sampled = true" in result.output
        assert quiet.requests == 0
    finally:
        quiet.stop()


BAD = {
    "an axis with no categories": ('[[axes]]\nname = "genre"\ncategories = []\n', "no categories"),
    "a budget of 0": (None, "budget"),
    "an unknown key": ('[[axes]]\nname = "x"\ncategories = ["a"]\ncolour = "red"\n', "unknown key 'colour'"),
    "no axes": ("", "no axes"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_configs_are_one_line_and_exit_2(tmp_path, case, invoke):
    axes, expected = BAD[case]
    config = write_config(tmp_path, "http://127.0.0.1:9/v1", budget=0 if case == "a budget of 0" else 10,
                          axes=axes)
    result = invoke("search", "--config", str(config), "-o", str(tmp_path / "a.jsonl"))
    assert result.exit_code == 2, result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_an_unknown_top_level_key_and_a_missing_config(tmp_path, invoke):
    config = write_config(tmp_path, "http://127.0.0.1:9/v1")
    config.write_text("budgt = 10\n" + config.read_text())
    result = invoke("search", "--config", str(config), "-o", str(tmp_path / "a.jsonl"))
    assert result.exit_code == 2 and "unknown key 'budgt'" in result.output
    result = invoke("search", "--config", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "a.jsonl"))
    assert result.exit_code == 2 and "not found" in result.output
    config.write_text(config.read_text().replace("budgt = 10\n", ""))
    result = invoke("search", "--config", str(config), "-o", str(tmp_path / "a.jsonl"), "--budget", "0")
    assert result.exit_code == 2 and "--budget" in result.output


@pytest.mark.parametrize("name", ["stories", "redteam"])
def test_the_shipped_examples_print_and_parse(tmp_path, name, invoke):
    from quadiv.search import load_config

    result = invoke("search", "--example", name)
    assert result.exit_code == 0
    path = tmp_path / f"{name}.toml"
    path.write_text(result.stdout)
    config = load_config(path)
    assert config.budget >= 500 and config.seeds and len(config.axes) == 2
    if name == "redteam":
        assert config.algorithm == "rainbowplus" and [a.size for a in config.axes] == [10, 10]
        assert config.sections["target"]["model"]
    else:
        assert config.algorithm == "qdaif" and config.axes[0].size == 20


def test_search_without_a_config_says_how_to_start(tmp_path, invoke):
    result = invoke("search", "-o", str(tmp_path / "a.jsonl"))
    assert result.exit_code == 2 and "--example" in result.output
    assert invoke("search", "--example", "poems").exit_code == 2


def test_ctrl_c_says_how_to_resume(tmp_path, server):
    config = write_config(tmp_path, server.url, budget=100000)
    process = subprocess.Popen([sys.executable, "-m", "quadiv", "search", "--config", str(config), "-o",
                                str(tmp_path / "a.jsonl")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "QUADIV_CACHE": str(tmp_path / "cache")})
    journal = tmp_path / "a.jsonl.journal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 3):
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "--resume" in err and "Traceback" not in err, err


def test_learned_descriptors_from_the_config_qdhf(tmp_path, server, invoke):
    learned = f'''
[learned]
judge = "toy"
base_url = "{server.url}"
capabilities = "chat,top_logprobs"
embedder = "static"
n_triplets = 20
epochs = 50
refit_at = [0, 1, 5]
bins = 5
'''
    config = write_config(tmp_path, server.url, budget=45, axes=learned)
    out = tmp_path / "a.jsonl"
    result = invoke("search", "--config", str(config), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a.search.json").read_text())
    assert [a["name"] for a in summary["axes"]] == ["learned_1", "learned_2"]
    rows = read_archive(out)
    assert all(0 <= i < 5 for r in rows for i in r["cell_index"]) and len({tuple(r["cell_index"]) for r in rows}) > 1
    journal = [json.loads(line) for line in Path(str(out) + ".journal").read_text().splitlines()[1:]]
    assert [row["iteration"] for row in journal if "refit" in row] == [0, 1, 5]
    assert len([r for r in journal if "refit" in r][-1]["refit"]["triplets"]) == 60  # 20 per refit, accumulated

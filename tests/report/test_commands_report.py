"""`measure`, `select` and `front` with --report: they say where the page went, and --json stdout stays one object."""
import json
import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """40 rows in three groups, without an id column, with unit embeddings beside them."""
    folder = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    rows = [{"text": f"row {i} " + "word " * (i % 5), "q": float(rng.uniform()), "g": "abc"[i % 3]} for i in range(40)]
    (folder / "pool.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    X = rng.normal(size=(40, 8))
    np.save(folder / "X.npy", X / np.linalg.norm(X, axis=1, keepdims=True))
    return folder


def quadiv(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


COMMON = ["pool.jsonl", "--field", "text", "-q", "q", "--embeddings", "X.npy"]


@pytest.mark.parametrize("command, extra, written", [
    ("measure", ["-g", "g", "--png", "figs"], ["m.html", "figs/groups.png", "figs/quality.png"]),
    ("select", ["-g", "g", "-n", "5", "-o", "chosen.jsonl"], ["m.html"]),
    ("front", ["-n", "5", "--methods", "mmr", "-t", "0:1:3", "-o", "FRONT.json"], ["m.html"]),
])
def test_report_location_goes_to_stderr_and_json_stays_clean(pool, command, extra, written):
    done = quadiv(command, *COMMON, *extra, "--report", "m.html", "--json", cwd=pool)
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), dict)
    assert [line for line in done.stderr.splitlines() if line.startswith("wrote ")] == [f"wrote {p}" for p in written]
    page = (pool / "m.html").read_text(encoding="utf-8")
    assert "not drawn" not in page  # the command had the rows: every panel is there


def test_measure_map_is_coloured_by_group_not_by_a_choice(pool):
    done = quadiv("measure", *COMMON, "-g", "g", "--report", "m.html", cwd=pool)
    assert done.returncode == 0, done.stderr
    data = json.loads((pool / "m.html").read_text(encoding="utf-8").split('id="data">')[1].split("</script>")[0])
    assert "chosen" not in data["map"] and data["map"]["names"] == ["a", "b", "c"]


@pytest.mark.parametrize("command, extra", [
    ("measure", []),
    ("select", ["-n", "5", "-o", "kept.jsonl"]),
    ("front", ["-n", "5", "-o", "F.json"]),
])
def test_a_report_over_an_input_or_output_is_refused_before_any_work(pool, command, extra):
    target = {"measure": "pool.jsonl", "select": "kept.jsonl", "front": "F.json"}[command]
    before = (pool / "pool.jsonl").read_bytes()
    done = quadiv(command, *COMMON, *extra, "--report", target, cwd=pool)
    assert done.returncode == 2 and "same file as" in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert (pool / "pool.jsonl").read_bytes() == before
    if command != "measure":
        assert not (pool / target).exists()


@pytest.mark.parametrize("command, extra", [("measure", []), ("select", ["-n", "5", "-o", "kept2.jsonl"])])
def test_png_without_a_report_is_refused(pool, command, extra):
    done = quadiv(command, *COMMON, *extra, "--png", "figs2", cwd=pool)
    assert done.returncode == 2 and "give --report" in done.stderr, done.stderr
    assert not (pool / "figs2").exists() and not (pool / "kept2.jsonl").exists()

"""`quadiv report RESULT.json`: what it cannot draw is said, where it wrote is said, bad paths and files are refused."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quadiv.errors import InputError, UsageError
from quadiv.report import check_report_paths, report_file

ACCEPTED = "`quadiv front -o`, `quadiv select --json` or `quadiv measure --json`"


def quadiv(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quadiv", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def _save(folder, name, obj) -> str:
    (folder / name).write_text(json.dumps(obj), encoding="utf-8")
    return name


def test_select_result_says_on_stderr_and_on_the_page_what_is_not_drawn(tmp_path, sample):
    name = _save(tmp_path, "sel.json", sample.select())
    done = quadiv("report", name, "-o", "r.html", "--png", "figs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "wrote r.html\n"
    notes = done.stderr.splitlines()
    assert len(notes) == 2 and all(line.startswith("note: ") for line in notes)
    for panel in ("quality distribution", "quality by group", "embedding map", "sample rows", "--report"):
        assert panel in notes[0]
    assert "no PNG figures" in notes[1] and "figs" in notes[1]
    assert not (tmp_path / "figs").exists()  # no empty folder
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'class="note missing">not drawn: the quality distribution' in page


def test_measure_result_names_the_histogram_and_map_and_lists_each_figure(tmp_path, sample):
    name = _save(tmp_path, "m.json", sample.measure())
    done = quadiv("report", name, "-o", "m.html", "--png", "figs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["wrote m.html", "wrote figs/groups.png"]
    assert "the quality distribution, the embedding map" in done.stderr
    assert "the embedding map" in (tmp_path / "m.html").read_text(encoding="utf-8")


def test_front_result_with_every_panel_given_has_no_note(tmp_path, sample):
    written, notes = report_file(tmp_path / _save(tmp_path, "f.json", sample.front()), tmp_path / "f.html")
    assert written == [str(tmp_path / "f.html")]
    assert notes and "of the knee's selection" in notes[0] and "quadiv front INPUT" in notes[0]


@pytest.mark.parametrize("text, says", [
    ("[1, 2]", "a JSON array, not an object"),
    ("3", "a JSON number, not an object"),
    ("", "not valid JSON"),
    ("{}", "an empty object"),
    ('{"id": 1, "text": "x"}', "its keys: id, text"),
    ('{"metrics": {"before": 1, "after": 2}}', "needs 'metrics'"),
    ('{"points": 3}', "needs 'objectives' (an object); got null"),
    ('{"objectives": {"v": "max"}, "points": {"a": 1}}', "needs 'points' (an array); got object"),
    ('{"metrics": {"v": 1}, "groups": {"a": 3}}', "group 'a'"),
    ('{"metrics": {"v": 1}, "n": 1' + "0" * 5000 + "}", "integer too long"),
    ("[" * 100000, "nested too deeply"),
])
def test_a_json_that_is_no_result_is_one_line_naming_the_file_and_what_is_accepted(tmp_path, text, says):
    (tmp_path / "bad.json").write_text(text, encoding="utf-8")
    done = quadiv("report", "bad.json", "-o", "r.html", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.json: ") and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_not_a_result_names_the_accepted_kinds(tmp_path):
    _save(tmp_path, "rows.json", {"text": "a"})
    with pytest.raises(InputError, match="rows.json: .*" + ACCEPTED.replace("-", r"\-")):
        report_file(tmp_path / "rows.json", tmp_path / "r.html")


@pytest.mark.parametrize("args, says", [
    (["res.json", "-o", "res.json"], "is the same file as res.json"),
    (["res.json", "-o", "./res.json"], "is the same file as res.json"),
    (["res.json", "-o", "missing/r.html"], "the folder of missing/r.html does not exist"),
    (["res.json", "-o", "sub"], "sub is a folder"),
    (["res.json", "-o", "r.html", "--png", "afile"], "--png afile is a file"),
])
def test_bad_paths_are_refused_and_nothing_changes(tmp_path, sample, args, says):
    _save(tmp_path, "res.json", sample.front())
    (tmp_path / "afile").write_text("keep")
    (tmp_path / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    done = quadiv("report", *args, cwd=tmp_path)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "res.json", "sub"]
    assert list((tmp_path / "sub").iterdir()) == []


def test_check_report_paths_refuses_the_other_outputs_even_before_they_exist(tmp_path):
    with pytest.raises(UsageError, match="same file as"):
        check_report_paths(tmp_path / "FRONT.json", None, (tmp_path / "pool.jsonl", tmp_path / "FRONT.json"))
    check_report_paths(tmp_path / "r.html", tmp_path / "new-folder", (tmp_path / "FRONT.json",))


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
              st.sampled_from(["max", "min", "budget", "tradeoff", 10**400])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["points", "metrics", "before", "after", "objectives", "knee", "hypervolume", "groups", "n", "method",
         "params", "pareto", "vendi", "quality_mean", "worst_group", "budget", "value", "harmony_quality"]),
        inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_any_json_reports_or_raises_an_input_error_naming_the_file(value):
    with tempfile.TemporaryDirectory() as folder:
        path, page = Path(folder) / "any.json", Path(folder) / "any.html"
        path.write_text(json.dumps(value), encoding="utf-8")
        try:
            written, _ = report_file(path, page)
        except InputError as err:
            assert str(err).startswith(f"{path}: ")
            assert not page.exists()
        else:
            assert written == [str(page)]

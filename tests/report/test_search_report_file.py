"""`quadiv report ARCHIVE.jsonl` (or ARCHIVE.search.json): both files are read; bad ones are one line naming
the file, the line and the fix."""
import json
import sys
from types import SimpleNamespace

import pytest

from quadiv import cli
from quadiv.errors import InputError, UsageError
from quadiv.report import read_search, report_file


@pytest.fixture
def quadiv(monkeypatch, capsys, tmp_path):
    """Run `quadiv ARGS` in this process (the code under test) from `tmp_path`: (returncode, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> SimpleNamespace:
        monkeypatch.setattr(sys, "argv", ["quadiv", *args])
        with pytest.raises(SystemExit) as done:
            cli.main()
        out = capsys.readouterr()
        return SimpleNamespace(returncode=done.value.code, stdout=out.out, stderr=out.err)
    return run


@pytest.mark.parametrize("given", ["archive.jsonl", "archive.search.json"])
def test_report_of_an_archive_or_its_sidecar(quadiv, tmp_path, sample, given):
    sample.write_search(tmp_path, sample.search())
    done = quadiv("report", given, "-o", "r.html")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "wrote r.html\n" and done.stderr == ""
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<title>quadiv search report</title>" in page
    assert 'id="heatmap-chart"' in page and 'id="qd-chart"' in page and 'id="elites-section"' in page


def test_read_search_gives_the_sidecar_with_the_elites_line_by_line(tmp_path, sample):
    result = sample.search()
    archive = sample.write_search(tmp_path, result, "run")
    (tmp_path / "run.jsonl").write_text(archive.read_text(encoding="utf-8") + "\n  \n", encoding="utf-8")
    read = read_search(archive)
    assert read == {**result, "archive": "run.jsonl"}
    assert read_search(tmp_path / "run.search.json") == read
    assert read["elites"][0]["text"].startswith(sample.payloads[0])  # raw U+2028 in a line does not split it


def test_png_figures_and_a_note_without_axes(quadiv, tmp_path, sample):
    pytest.importorskip("matplotlib", reason="matplotlib not installed: pip install 'quadiv[report]'")
    result = sample.search()
    result["axes"] = []
    for elite in result["elites"]:
        elite["cell"], elite["cell_index"] = [elite["id"]], None
    sample.write_search(tmp_path, result)
    done = quadiv("report", "archive.jsonl", "-o", "r.html", "--png", "figs")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["wrote r.html", "wrote figs/qd_score.png"]
    assert done.stderr.startswith("note: no archive heatmap: this archive has no axes") and len(
        done.stderr.splitlines()) == 1


def _lines(result) -> str:
    return "".join(json.dumps(e) + "\n" for e in result["elites"])


@pytest.mark.parametrize("setup, given, says", [
    (lambda d, r: (d / "archive.search.json").unlink(), "archive.jsonl",
     "archive.jsonl: a .jsonl is read as a search archive, and its sidecar archive.search.json is not beside it"),
    (lambda d, r: (d / "archive.jsonl").unlink(), "archive.search.json",
     "archive.search.json: its archive archive.jsonl is not beside it"),
    (lambda d, r: None, "missing.jsonl", "missing.jsonl: file not found"),
    (lambda d, r: (d / "archive.jsonl").write_text(_lines(r) + '{"id": "x", "text": \n'), "archive.jsonl",
     "archive.jsonl: line 8: not valid JSON"),
    (lambda d, r: (d / "archive.jsonl").write_text(_lines(r) + "[1, 2]\n"), "archive.jsonl",
     "archive.jsonl: line 8: an elite must be a JSON object; got a JSON array"),
    (lambda d, r: (d / "archive.jsonl").write_text('{"text": "a", "cell": [], "fitness": "x"}\n'),
     "archive.search.json", "archive.jsonl: line 1: 'fitness' must be a finite number"),
    (lambda d, r: (d / "archive.jsonl").write_text("\n" + _lines(r).replace('"cell_index": [2, 3]', '"cell_index": [2]')),
     "archive.jsonl", "archive.jsonl: line 6: 'cell_index' must be one integer per axis"),
    (lambda d, r: (d / "archive.search.json").write_text('{"kind": "front"}'), "archive.jsonl",
     "archive.search.json: not the sidecar of a search archive: its 'kind' is 'front', not 'search'"),
    (lambda d, r: (d / "archive.search.json").write_text("[]"), "archive.jsonl",
     "archive.search.json: not the sidecar of a search archive: a JSON array, not an object"),
    (lambda d, r: (d / "archive.search.json").write_text("{"), "archive.jsonl", "archive.search.json: not valid JSON"),
    (lambda d, r: (d / "archive.search.json").write_text('{"kind": "search"}'), "archive.search.json",
     "archive.search.json: needs 'archive', the file name of its archive"),
    (lambda d, r: (d / "archive.search.json").write_text(json.dumps({"kind": "search", "axes": 3})),
     "archive.jsonl", "archive.search.json: a search result's 'axes' must be an array"),
    (lambda d, r: (d / "archive.search.json").write_text(json.dumps({"kind": "search", "archive": "archive.jsonl",
                                                                      "axes": r["axes"]})),
     "archive.jsonl", "archive.search.json: a search result needs 'stats' (an object); got null"),
])
def test_bad_archives_are_one_line_naming_the_file_and_nothing_is_written(quadiv, tmp_path, sample, setup, given,
                                                                           says):
    result = sample.search()
    sample.write_search(tmp_path, result)
    setup(tmp_path, result)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = quadiv("report", given, "-o", "r.html")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {says}"), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_page_may_be_neither_file(tmp_path, sample):
    archive = sample.write_search(tmp_path, sample.search())
    sidecar = tmp_path / "archive.search.json"
    for given in (archive, sidecar):
        for target in (archive, sidecar):
            with pytest.raises(UsageError, match="is the same file as"):
                report_file(given, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.jsonl", "archive.search.json"]


def test_what_report_accepts_names_the_search_archive(quadiv, tmp_path):
    (tmp_path / "rows.json").write_text('{"text": "a"}', encoding="utf-8")
    with pytest.raises(InputError, match=r"or the ARCHIVE\.jsonl \(or its ARCHIVE\.search\.json\) that `quadiv search`"):
        report_file(tmp_path / "rows.json", tmp_path / "r.html")
    done = quadiv("report", "--help")
    assert done.returncode == 0 and "ARCHIVE.jsonl" in done.stdout and "search archive" in done.stdout

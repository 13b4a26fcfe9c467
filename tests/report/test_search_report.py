"""The search kind without a browser: cells become a grid with the best per cell, one axis a row, no axes no
heatmap; the curve, the elites table, escaping and the PNG figures."""
import html
import json
import re
from pathlib import Path

import pytest

from quadiv.errors import InputError, UsageError
from quadiv.report import build_report, check_elite, detect_kind, missing_panels
from quadiv.report._data import MAX_CELL_CHARS, MAX_SAMPLE_ROWS, page_data

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _cells(heatmap: dict) -> dict:
    return {(c["x"], c["y"]): (c["n"], c["best"]) for c in heatmap["cells"]}


def _expected(elites, key) -> dict:
    out = {}
    for elite in elites:
        n, best = out.get(key(elite), (0, None))
        out[key(elite)] = (n + 1, elite[2] if best is None else max(best, elite[2]))
    return out


def test_two_axes_give_a_grid_of_the_filled_cells_with_count_and_best(sample):
    result = sample.search()
    data = page_data(result, "search", None)
    heatmap = data["heatmap"]
    assert heatmap["x"] == result["axes"][0] and heatmap["y"] == result["axes"][1] and not heatmap["rest"]
    assert _cells(heatmap) == _expected(sample.search_elites, lambda e: (e[0], e[1]))
    assert _cells(heatmap)[(0, 0)] == (3, 0.9)
    assert [(c["y"], c["x"]) for c in heatmap["cells"]] == sorted((c["y"], c["x"]) for c in heatmap["cells"])
    best = next(c for c in heatmap["cells"] if (c["x"], c["y"]) == (0, 0))
    assert best["text"] == result["elites"][1]["text"] and best["cell"] == result["elites"][1]["cell"]
    assert heatmap["notes"] == ["5 of 12 cells hold elites (7 elites)"]
    assert data["missing"] == [] and missing_panels(result, "search", None) == []


def test_cells_without_cell_index_are_found_by_their_labels(sample):
    result = sample.search()
    for elite in result["elites"]:
        elite.pop("cell_index")
    result["elites"][0]["cell_index"] = None
    assert _cells(page_data(result, "search", None)["heatmap"]) == _expected(sample.search_elites,
                                                                              lambda e: (e[0], e[1]))


def test_one_axis_is_a_single_row(sample):
    result = sample.search()
    result["axes"] = result["axes"][:1]
    for elite in result["elites"]:
        elite["cell"], elite["cell_index"] = elite["cell"][:1], elite["cell_index"][:1]
    heatmap = page_data(result, "search", None)["heatmap"]
    assert heatmap["y"] is None
    assert _cells(heatmap) == _expected(sample.search_elites, lambda e: (e[0], 0))
    assert heatmap["notes"] == ["3 of 3 cells hold elites (7 elites)"]


def test_more_than_two_axes_show_the_first_two_and_the_best_over_the_rest(sample):
    result = sample.search()
    result["axes"].append({"name": "tone", "labels": ["dark", "light"]})
    for i, elite in enumerate(result["elites"]):
        elite["cell"].append(["dark", "light"][i % 2])
        elite["cell_index"].append(i % 2)
    heatmap = page_data(result, "search", None)["heatmap"]
    assert heatmap["rest"] and _cells(heatmap) == _expected(sample.search_elites, lambda e: (e[0], e[1]))
    assert "has 3 axes: the grid shows the first two" in heatmap["notes"][1] and "(tone)" in heatmap["notes"][1]
    best = next(c for c in heatmap["cells"] if (c["x"], c["y"]) == (0, 0))
    assert best["cell"][2] == "light"  # the best of cell (0, 0) is elite 1, on the "light" side of the third axis


def test_no_axes_means_no_heatmap_and_a_note(tmp_path, sample):
    result = sample.search()
    result["axes"], result["num_cells"] = [], None
    for i, elite in enumerate(result["elites"]):
        elite["cell"], elite["cell_index"] = [f"centroid {i % 3}"], None
    data = page_data(result, "search", None)
    assert "heatmap" not in data and len(data["elites"]["rows"]) == len(result["elites"])
    assert data["missing"] == [missing_panels(result, "search", None)[0]]
    assert data["missing"][0].startswith("no archive heatmap: this archive has no axes")
    page = _page(tmp_path, result)
    assert 'id="heatmap-chart"' not in page and 'id="qd-chart"' in page
    assert '<p class="note missing">no archive heatmap' in page


def test_elites_table_is_best_first_per_cell_in_order_of_the_cells_best(sample):
    result = sample.search()
    table = page_data(result, "search", None)["elites"]
    assert table["columns"] == ["cell", "fitness", "iteration", "id", "parent", "text", "response"]
    fitness = [float(row[1]) for row in table["rows"]]
    assert fitness == [0.95, 0.9, 0.7, 0.5, 0.6, 0.3, 0.1]
    assert table["rows"][0][0] == ", ".join(result["elites"][4]["cell"])
    assert table["notes"][0].startswith("all 7 elites: cells in order of their best fitness")


def test_elites_table_is_capped_and_cuts_long_values_and_has_no_response_column_without_one(sample):
    result = sample.search()
    template = result["elites"][0]
    result["elites"] = [{**template, "id": str(i), "fitness": i / 100, "text": "word " * 200} for i in range(80)]
    for elite in result["elites"]:
        elite.pop("response")
    table = page_data(result, "search", None)["elites"]
    assert len(table["rows"]) == MAX_SAMPLE_ROWS and "response" not in table["columns"]
    assert table["notes"][0].startswith(f"showing the first {MAX_SAMPLE_ROWS} of 80 elites")
    text = table["rows"][0][table["columns"].index("text")]
    assert len(text) == MAX_CELL_CHARS and text.endswith("…")
    assert [row[3] for row in table["rows"][:3]] == ["79", "78", "77"]


def test_qd_curve_has_one_list_per_history_key(sample):
    result = sample.search()
    curve = page_data(result, "search", None)["qd"]
    assert list(curve) == ["evaluations", "qd_score", "coverage", "iteration", "calls", "num_elites", "best", "mean"]
    assert curve["evaluations"] == [8 * k for k in range(1, 11)] and curve["qd_score"][-1] == pytest.approx(6.0)
    result["history"][3]["vendi"] = 2.5
    curve = page_data(result, "search", None)["qd"]
    assert curve["vendi"] == [None] * 3 + [2.5] + [None] * 6
    result["history"] = []
    data = page_data(result, "search", None)
    assert "qd" not in data and data["missing"] == ["no QD-score curve: the search's 'history' is empty"]


def test_summary_names_algorithm_budget_seed_and_stats(sample):
    data = page_data(sample.search(), "search", None)
    pairs = dict(data["pairs"])
    assert pairs["algorithm"] == sample.payloads[4] and pairs["budget"] == "80" and pairs["seed"] == "3"
    assert pairs["qd score"] == "4" and pairs["coverage"] == "0.4167" and pairs["num elites"] == "7"
    assert pairs["axes"] == f"genre {sample.payloads[3]} (3) × length (4)"
    assert data["title"] == f"search: {sample.payloads[4]}, 7 elites"


def _page(tmp_path, result) -> str:
    build_report(result, tmp_path / "s.html", kind="search")
    return (tmp_path / "s.html").read_text(encoding="utf-8")


def test_hostile_text_in_labels_texts_and_responses_is_escaped(tmp_path, sample):
    result = sample.search()
    page = _page(tmp_path, result)
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert not re.search(r"<(?:img|svg onload|quadiv-pwned|!--|!\[CDATA)", page, re.IGNORECASE)
    table = page.split('id="elites-section"')[1]
    for payload in sample.payloads:
        assert html.escape(payload) in table
    assert f"<td>{html.escape(sample.payloads[4])}</td>" in page  # the algorithm, in the summary
    data = json.loads(re.search(r'id="data">(.*?)</script>', page, re.DOTALL).group(1))
    assert data["heatmap"]["x"]["labels"][1] == sample.payloads[0] and data["heatmap"]["y"]["labels"][2] == sample.payloads[2]
    assert "\u2028" not in page.split('id="data">')[1]
    assert "<title>quadiv search report</title>" in page


def test_detect_kind_and_rows_are_refused(tmp_path, sample):
    assert detect_kind(sample.search()) == "search"
    with pytest.raises(UsageError, match="takes no rows"):
        build_report(sample.search(), tmp_path / "r.html", kind="search", rows={})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mutate, says", [
    (lambda r: r.pop("elites"), "needs 'elites' (an array)"),
    (lambda r: r.pop("stats"), "needs 'stats' (an object)"),
    (lambda r: r.update(axes=[{"name": "a", "labels": []}]), "axes[0] must be"),
    (lambda r: r["elites"][2].update(fitness="high"), "elites[2]: 'fitness' must be a finite number"),
    (lambda r: r["elites"][3].update(cell_index=[0, 9]), "elites[3]: 'cell_index' must be one integer per axis"),
    (lambda r: r["elites"][1].update(cell=["horror"]), "elites[1]: 'cell' must be an array of 2 labels"),
    (lambda r: r["elites"][0].update(cell=["nope", "0.00-0.20"], cell_index=None), "'nope' is not one of the labels"),
    (lambda r: r["elites"][0].update(text=None), "'text' must be a string"),
    (lambda r: r["history"].append({"qd_score": 1.0}), "history[10] must be an object with a number 'evaluations'"),
])
def test_bad_search_results_raise_and_write_nothing(tmp_path, sample, mutate, says):
    result = sample.search()
    mutate(result)
    with pytest.raises(InputError, match=re.escape(says)):
        build_report(result, tmp_path / "r.html", kind="search")
    assert list(tmp_path.iterdir()) == []


def test_check_elite_normalises_one_elite(sample):
    result = sample.search()
    elite = check_elite(result["elites"][4], result["axes"])
    assert elite["index"] == [2, 3] and elite["fitness"] == 0.95 and elite["response"] == result["elites"][4]["response"]
    assert check_elite({**result["elites"][4], "cell": ["c7"]}, [])["index"] is None


def test_png_heatmap_and_qd_score(tmp_path, sample):
    image = pytest.importorskip("matplotlib.image", reason="matplotlib not installed: pip install 'quadiv[report]'")
    result = sample.search()
    result["axes"][0]["labels"][2] = "$\\frac{broken mathtext$"
    written = build_report(result, tmp_path / "s.html", kind="search", png_dir=tmp_path / "png")
    assert written[1:] == [str(tmp_path / "png" / "heatmap.png"), str(tmp_path / "png" / "qd_score.png")]
    for path in written[1:]:
        assert Path(path).read_bytes()[:8] == PNG_MAGIC
        pixels = image.imread(path)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 500 and pixels[..., :3].std() > 0.05
    result["axes"] = result["axes"][:1]
    for elite in result["elites"]:
        elite["cell"], elite["cell_index"] = elite["cell"][:1], elite["cell_index"][:1]
    result["history"] = []
    written = build_report(result, tmp_path / "one.html", kind="search", png_dir=tmp_path / "one")
    assert written[1:] == [str(tmp_path / "one" / "heatmap.png")]

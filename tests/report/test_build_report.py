"""build_report without a browser: each kind renders, the page is self-contained and escaped, writes are atomic."""
import base64
import hashlib
import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from quadiv.errors import InputError, UsageError
from quadiv.report import build_report, detect_kind

URL_ATTRIBUTES = {"src", "href", "action", "data", "poster", "srcset", "formaction", "xlink:href", "background"}


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes (text and script content are not tags)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, attrs))


def _page(tmp_path, result, kind, rows=None) -> str:
    path = tmp_path / f"{kind}.html"
    build_report(result, path, kind=kind, rows=rows)
    return path.read_text(encoding="utf-8")


def _data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.DOTALL)
    return json.loads(match.group(1))


def _script(page: str) -> str:
    return re.search(r"<script>(.*?)</script>", page, re.DOTALL).group(1)


@pytest.mark.parametrize("kind", ["front", "select", "measure"])
def test_each_kind_renders_its_sections(tmp_path, sample, kind):
    result = getattr(sample, kind)()
    page = _page(tmp_path, result, kind)
    data = _data(page)
    assert f"<title>quadiv {kind} report</title>" in page
    assert 'id="summary"' in page
    expected = {"front": {"front"}, "select": set(), "measure": {"groups"}}[kind]
    assert set(data) == expected
    for key in ("front", "groups", "hist", "map"):
        assert (f'id="{key}-chart"' in page) == (key in expected)


def test_front_data_keeps_points_knee_and_nan_as_null(tmp_path, sample):
    result = sample.front()
    front = _data(_page(tmp_path, result, "front"))["front"]
    assert front["knee"] == 2
    assert [o["name"] for o in front["objectives"]] == ["vendi", "quality_mean"]
    assert len(front["points"]) == len(result["points"])
    assert front["points"][-1]["metrics"]["vendi"] is None
    assert front["points"][0]["params"] == result["points"][0]["params"]


def test_front_with_one_objective_has_a_table_but_no_chart(tmp_path, sample):
    result = sample.front()
    result["objectives"] = {"vendi": "max"}
    page = _page(tmp_path, result, "front")
    assert 'id="front-chart"' not in page and f"All {len(result['points'])} points" in page
    assert _data(page) == {}


def test_all_panels_from_rows(tmp_path, sample):
    rows = sample.rows()
    page = _page(tmp_path, sample.select(), "select", rows)
    data = _data(page)
    assert set(data) == {"groups", "hist", "map"}
    edges = np.array(data["hist"]["edges"])
    for series, values in zip(data["hist"]["series"], (rows["quality_before"], rows["quality_after"])):
        counts, _ = np.histogram(values, bins=edges)
        np.testing.assert_allclose(series["fractions"], counts / len(values))
        assert series["n"] == len(values) and series["mean"] == pytest.approx(np.mean(values))
    after = rows["groups"]["quality"]["after"]
    assert data["groups"]["worst"] == rows["groups"]["labels"][int(np.argmin(after))]
    shown = data["map"]
    assert [bool(v) for v in shown["chosen"]] == rows["map"]["chosen"]
    assert [shown["names"][i] for i in shown["label"]] == rows["map"]["label"]
    for axis in ("x", "y"):
        exact = np.array(rows["map"][axis])
        np.testing.assert_allclose(shown[axis], exact, rtol=0, atol=np.abs(exact).max() * 1e-3)
    assert 'id="samples-section"' in page


def test_measure_groups_come_from_the_result(tmp_path, sample):
    result = sample.measure()
    groups = _data(_page(tmp_path, result, "measure"))["groups"]
    assert groups["labels"] == list(result["groups"])
    assert groups["metric"] == "quality_mean"
    assert groups["metrics"]["vendi"]["all"] == [5.0, 6.0, 4.0]
    assert groups["worst"] == result["worst_group"]


def test_page_is_self_contained(tmp_path, sample):
    page = _page(tmp_path, sample.front(), "front", sample.rows())
    assert "http://" not in page and "https://" not in page
    tags = _Tags()
    tags.feed(page)
    refs = [value for _, attrs in tags.seen for name, value in attrs if name in URL_ATTRIBUTES]
    assert refs == ["data:,"]  # the empty favicon, so the browser asks for none
    assert {tag for tag, _ in tags.seen} & {"iframe", "object", "embed", "img", "frame"} == set()
    assert [dict(attrs).get("src") for tag, attrs in tags.seen if tag == "script"] == [None, None]
    assert not re.search(r"@import|url\(", page)


def test_content_security_policy_allows_only_the_page_script(tmp_path, sample):
    page = _page(tmp_path, sample.front(), "front")
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1))
    digest = base64.b64encode(hashlib.sha256(_script(page).encode("utf-8")).digest()).decode()
    assert "default-src 'none'" in csp
    assert f"script-src 'sha256-{digest}';" in csp


def test_hostile_text_is_escaped_everywhere(tmp_path, sample):
    page = _page(tmp_path, sample.front(), "front", sample.rows())
    page += _page(tmp_path, sample.measure(), "measure")
    page += _page(tmp_path, sample.select(), "select")
    assert page.count("<script") == 6 and page.count("</script>") == 6  # data + script per page
    assert not re.search(r"<(?:img|svg onload|quadiv-pwned|!--|!\[CDATA)", page, re.IGNORECASE)
    assert "&lt;img src=x onerror=&quot;" in page  # the payload as text in the Python-written tables
    assert "\u2028" not in page.split('id="data">')[1]


def test_detect_kind(sample):
    assert [detect_kind(getattr(sample, k)()) for k in ("front", "select", "measure")] == [
        "front", "select", "measure"]
    with pytest.raises(InputError):
        detect_kind({"n": 3})


@pytest.mark.parametrize("kind, mutate, error", [
    ("front", lambda r: r.update(knee=99), InputError),
    ("front", lambda r: r["objectives"].update(vendi="up"), InputError),
    ("front", lambda r: r["points"][0].pop("metrics"), InputError),
    ("select", lambda r: r["metrics"].pop("after"), InputError),
    ("measure", lambda r: r.pop("metrics"), InputError),
    ("measure", lambda r: r["groups"].update(a=3), InputError),
])
def test_bad_results_raise_and_write_nothing(tmp_path, sample, kind, mutate, error):
    result = getattr(sample, kind)()
    mutate(result)
    with pytest.raises(error):
        build_report(result, tmp_path / "r.html", kind=kind)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rows", [{"quality": [1.0]}, {"map": {"x": [1.0], "y": [1.0, 2.0]}},
                                  {"groups": {"labels": ["a"], "quality": {"all": [1.0, 2.0]}}},
                                  {"chosen_rows": ["not a dict"]}])
def test_bad_rows_raise_usage_error(tmp_path, sample, rows):
    with pytest.raises(UsageError):
        build_report(sample.select(), tmp_path / "r.html", kind="select", rows=rows)
    with pytest.raises(UsageError):
        build_report(sample.select(), tmp_path / "r.html", kind="selection")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_leaves_existing_file_and_no_temp(tmp_path, sample, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text("old")

    def explode(data):
        raise RuntimeError("boom")

    monkeypatch.setattr("quadiv.report._build.render_page", explode)
    with pytest.raises(RuntimeError):
        build_report(sample.front(), target, kind="front")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_failed_write_leaves_no_file(tmp_path, sample, monkeypatch):
    import quadiv.report._build as build

    target = tmp_path / "sub" / "r.html"
    monkeypatch.setattr(build, "render_page", lambda data: "\udcff")  # a lone surrogate: UTF-8 cannot write it
    with pytest.raises(UnicodeEncodeError):
        build_report(sample.front(), target, kind="front")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_build_report_returns_what_it_wrote_and_makes_no_empty_png_folder(tmp_path, sample):
    pytest.importorskip("matplotlib", reason="matplotlib not installed: pip install 'quadiv[report]'")
    assert build_report(sample.select(), tmp_path / "s.html", kind="select", png_dir=tmp_path / "png") == [
        str(tmp_path / "s.html")]
    assert not (tmp_path / "png").exists()
    written = build_report(sample.measure(), tmp_path / "m.html", kind="measure", png_dir=tmp_path / "png")
    assert written == [str(tmp_path / "m.html"), str(tmp_path / "png" / "groups.png")]


def test_failed_figure_leaves_no_page_and_no_folder(tmp_path, sample, monkeypatch):
    def explode(data):
        raise RuntimeError("boom")

    monkeypatch.setattr("quadiv.report._png.render_figures", explode)
    with pytest.raises(RuntimeError):
        build_report(sample.front(), tmp_path / "r.html", kind="front", png_dir=tmp_path / "png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind, panels", [
    ("select", "the quality distribution, quality by group (when the run had groups), the embedding map, the sample rows"),
    ("measure", "the quality distribution, the embedding map"),
    ("front", ("the quality distribution, quality by group (when the run had groups), the embedding map, the "
               "sample rows of the knee's selection")),
])
def test_a_result_alone_says_on_the_page_which_panels_it_cannot_draw(tmp_path, sample, kind, panels):
    page = _page(tmp_path, getattr(sample, kind)(), kind)
    assert f'<p class="note missing">not drawn: {html.escape(panels)}: they need the pool' in page
    assert "not drawn" not in _page(tmp_path, getattr(sample, kind)(), kind, sample.rows())


def test_sampled_map_says_how_many_points_it_shows(tmp_path, sample):
    from quadiv.report import map_rows

    X = np.random.default_rng(0).normal(size=(80, 4))
    rows = {"map": map_rows(X, chosen=[1, 2], max_points=50)}
    page = _page(tmp_path, sample.select(), "select", rows)
    assert '<p class="note">showing 50 of 80 points, sampled uniformly at random</p>' in page
    assert "sampled uniformly" not in _page(tmp_path, sample.select(), "select", {"map": map_rows(X, chosen=[1])})


def test_a_measure_map_has_no_choice(sample):
    from quadiv.report import map_rows

    out = map_rows(np.eye(5), labels=list("aabbc"))
    assert "chosen" not in out and out["total"] == 5


def test_front_colours_by_budget_and_merges_identical_points(tmp_path, sample):
    payload = sample.payloads[0]
    page = _page(tmp_path, sample.budgets(payload), "front")
    front = _data(page)["front"]
    assert {p["series"] for p in front["points"]} == {"facility-location, budget 5", "mmr, budget 5",
                                                     "facility-location, budget 10", "mmr, budget 10"}
    merged = [m for m in front["markers"] if len(m) > 1]
    assert merged == [[2, 5], [8, 11]] and sum(map(len, front["markers"])) == 12
    assert "4 settings share 2 markers: their values of &lt;script&gt;" in page  # the objective name, escaped
    one_budget = _data(_page(tmp_path, sample.front(), "front"))["front"]
    assert [p["series"] for p in one_budget["points"]] == [p["method"] for p in one_budget["points"]]


def test_front_table_marks_points_with_the_same_values(tmp_path, sample):
    page = _page(tmp_path, sample.budgets(), "front")
    assert "<th>on the Pareto front</th><td>4 (2 distinct)</td>" in page
    assert "<th>same values as</th>" in page and page.count("<td>point 2</td>") == 1
    plain = _page(tmp_path, sample.front(), "front")
    assert "same values as" not in plain and "distinct" not in plain

"""The page in headless Chromium with no network: charts are drawn and hostile text stays text.

Needs Debian's `chromium` package (apt-get install -y chromium); fails, never skips, without it.
Deselect with -m "not browser". QUADIV_CHROMIUM may name another Chromium binary.
"""
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from quadiv.report import build_report

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage"]  # containers often have a tiny /dev/shm
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag=None, **attrs):
        return [n for n in self.walk() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, ident):
        found = self.find(id=ident)
        assert len(found) == 1, f"expected one element #{ident}, found {len(found)}"
        return found[0]


class DomParser(HTMLParser):
    """A tree of the serialised DOM that Chromium dumps (text is unescaped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def _chromium() -> str:
    binary = os.environ.get("QUADIV_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("headless Chromium is needed for the report browser tests: apt-get install -y chromium "
                    "(Debian), or set QUADIV_CHROMIUM, or deselect them with -m 'not browser'", pytrace=False)
    return binary


def _dump(path, tmp, *flags: str) -> Node:
    """Open `path` in headless Chromium (no network) and parse the DOM after the page's script ran."""
    cmd = [_chromium(), *FLAGS, *flags, f"--user-data-dir={tmp / 'profile'}", "--dump-dom", path.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "HOME": str(tmp)})
    assert done.returncode == 0 and "<html" in done.stdout, f"chromium failed: {done.stderr[-2000:]}"
    parser = DomParser()
    parser.feed(done.stdout)
    return parser.root


@pytest.fixture(scope="module")
def pages(tmp_path_factory, sample):
    """The front report with every panel, and the measure report, as rendered DOM trees."""
    tmp = tmp_path_factory.mktemp("browser")
    inputs = {"front": (sample.front(), sample.rows()), "measure": (sample.measure(), None)}
    out = {}
    for kind, (result, rows) in inputs.items():
        build_report(result, tmp / f"{kind}.html", kind=kind, rows=rows)
        out[kind] = (_dump(tmp / f"{kind}.html", tmp), result, rows)
    return out


@pytest.mark.parametrize("kind", ["front", "measure"])
def test_no_payload_ran_and_no_element_was_injected(pages, kind):
    dom = pages[kind][0]
    assert [n.text() for n in dom.find("title") if n.parent.tag == "head"] == [f"quadiv {kind} report"]
    tags = {n.tag for n in dom.walk()}
    assert not tags & {"quadiv-pwned", "img", "iframe", "object", "embed"}
    assert not [n for n in dom.walk() if any(name.startswith("on") for name in n.attrs)]
    scripts = dom.find("script")
    assert len(scripts) == 2 and scripts[0].attrs == {"type": "application/json", "id": "data"}
    assert not dom.find("p", **{"class": "error"}), [n.text() for n in dom.find("p", **{"class": "error"})]


def test_front_charts_have_their_marks(pages):
    dom, result, rows = pages["front"]
    chart = dom.by_id("front-chart")
    plotted = [p for p in result["points"] if all(isinstance(p["metrics"][k], float) and p["metrics"][k] == p["metrics"][k]
                                                  for k in ("vendi", "quality_mean"))]
    circles = [c for c in chart.find("circle") if "pt" in c.attrs.get("class", "").split()]
    assert len(circles) == len(plotted) == len(result["points"]) - 1
    assert sum("pareto" in c.attrs["class"] for c in circles) == sum(p["pareto"] for p in plotted)
    assert len(chart.find("circle", **{"class": "knee"})) == 1
    assert len(chart.find("polyline", **{"class": "front-line"})) == 1
    series = rows["groups"]["quality"]
    bars = dom.by_id("groups-chart").find("rect")
    assert len(bars) == sum(v is not None for values in series.values() for v in values)
    assert len(dom.by_id("hist-chart").find("rect")) > 5
    assert len(dom.by_id("map-chart").find("circle")) == len(rows["map"]["x"])


def test_measure_group_bars_and_worst_group(pages):
    dom, result, _ = pages["measure"]
    bars = dom.by_id("groups-chart").find("rect")
    assert len(bars) == len(result["groups"])
    worst = [b for b in bars if "worst" in b.attrs["class"].split()]
    assert len(worst) == 1
    labels = [t.text() for t in dom.by_id("groups-chart").find("title")]
    assert labels == list(result["groups"])


def test_hostile_text_shows_as_text(pages, sample):
    dom, _result, _ = pages["front"]
    details = dom.by_id("front-details").text()  # the knee, selected on load by the script
    assert sample.payloads[1] in details and sample.payloads[3] in details
    hover = [t.text() for t in dom.by_id("front-chart").find("title")]
    assert any(t.startswith(sample.payloads[0]) for t in hover)
    assert any(t.startswith(sample.payloads[2]) for t in hover)
    legend = dom.by_id("front-legend").text()
    assert sample.payloads[0] in legend and sample.payloads[2] in legend
    group_labels = [t.text() for t in dom.by_id("groups-chart").find("title")]
    assert sample.payloads[1] in group_labels and sample.payloads[2] in group_labels
    cells = [td.text() for td in dom.by_id("samples-section").find("td")]
    for payload in sample.payloads:
        assert payload in cells
    measure = pages["measure"][0]
    assert sample.payloads[0] in measure.by_id("groups-section").text()
    assert sample.payloads[1] in measure.by_id("summary").text()


@pytest.fixture(scope="module")
def more(tmp_path_factory, sample):
    """A measure page with a map (no choice), and a front over two budgets with tied points."""
    from quadiv.report import map_rows

    tmp = tmp_path_factory.mktemp("browser-more")
    rng = np.random.default_rng(2)
    labels = np.array(["a", "b", sample.payloads[1]])[rng.integers(0, 3, 90)]
    cases = {"measure": (sample.measure(), {"map": map_rows(rng.normal(size=(90, 6)), labels=labels)}),
             "front": (sample.budgets(sample.payloads[0]), None)}
    out = {}
    for kind, (result, rows) in cases.items():
        build_report(result, tmp / f"{kind}.html", kind=kind, rows=rows)
        out[kind] = (_dump(tmp / f"{kind}.html", tmp), result, rows, labels)
    return out


def _fills(chart: Node, cls: str) -> list:
    return [c.attrs["fill"] for c in chart.find("circle") if cls in c.attrs.get("class", "").split()]


def test_measure_map_is_coloured_by_group_with_a_legend_of_groups(more, sample):
    dom, _, rows, labels = more["measure"]
    fills = _fills(dom.by_id("map-chart"), "map-pt")
    assert len(fills) == len(rows["map"]["x"]) and len(set(fills)) == 3
    legend = [span.text() for span in dom.by_id("map-legend").children if isinstance(span, Node)]
    expected = {f"{g} ({int((labels == g).sum())})" for g in set(labels)}
    assert set(legend) == expected and "chosen" not in dom.by_id("map-legend").text()
    assert sample.payloads[1] in dom.by_id("map-legend").text()


def test_front_has_one_colour_per_budget_and_one_marker_per_tie(more):
    dom, result, _, _ = more["front"]
    chart = dom.by_id("front-chart")
    circles = [c for c in chart.find("circle") if "pt" in c.attrs.get("class", "").split()]
    assert len(circles) == len(result["points"]) - 2  # two ties of two settings each
    merged = [c for c in circles if "merged" in c.attrs["class"].split()]
    assert len(merged) == 2
    titles = sorted(c.find("title")[0].text() for c in merged)
    assert titles[0].startswith("2 settings with the same values\nfacility-location tradeoff=1, budget=10\n"
                                "mmr tradeoff=1, budget=10")
    by_series = {}
    for c in circles:
        if "merged" not in c.attrs["class"]:
            first = c.find("title")[0].text().split("\n")
            budget = next(line for line in first if line.startswith("budget"))
            by_series.setdefault((first[0].split(" ")[0], budget), set()).add(c.attrs["fill"])
    assert all(len(colours) == 1 for colours in by_series.values())
    assert len({next(iter(colours)) for colours in by_series.values()}) == 4
    legend = dom.by_id("front-legend").text()
    assert "facility-location, budget 5" in legend and "mmr, budget 10" in legend


def test_measure_metrics_table_fits_a_narrow_card(tmp_path, sample):
    """Layout, measured in the browser: the summary table neither scrolls sideways nor down."""
    result = sample.measure()
    names = [f"alpaca-farm-ppo-human-{k}" for k in range(7)]
    result["groups"] = {g: {"n": 100, **{f"metric_number_{m}": 0.123456 * m for m in range(25)}} for g in names}
    result["metrics"] = {f"metric_number_{m}": 0.123456 * m for m in range(25)}
    build_report(result, tmp_path / "page.html", kind="measure")
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)  # let the probe below run
    probe = ("<script>var w = document.querySelector('#summary div');"
             "document.body.setAttribute('data-probe', [w.scrollWidth - w.clientWidth, "
             "w.scrollHeight - w.clientHeight].join(','));</script>")
    (tmp_path / "probe.html").write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = _dump(tmp_path / "probe.html", tmp_path, "--window-size=700,900")
    body = dom.find("body")[0]
    assert body.attrs["data-probe"] == "0,0"


@pytest.mark.parametrize("kind", ["measure", "front"])
def test_new_panels_run_no_payload(more, kind):
    dom = more[kind][0]
    assert not {n.tag for n in dom.walk()} & {"quadiv-pwned", "img", "iframe", "object", "embed"}
    assert [n.text() for n in dom.find("title") if n.parent.tag == "head"] == [f"quadiv {kind} report"]
    assert not dom.find("p", **{"class": "error"}), [n.text() for n in dom.find("p", **{"class": "error"})]


def _one_axis(result: dict) -> dict:
    result["axes"] = result["axes"][:1]
    for elite in result["elites"]:
        elite["cell"], elite["cell_index"] = elite["cell"][:1], elite["cell_index"][:1]
    return result


def _no_axes(result: dict) -> dict:
    result["axes"] = []
    for elite in result["elites"]:
        elite["cell"], elite["cell_index"] = [elite["id"]], None
    return result


@pytest.fixture(scope="module")
def search_pages(tmp_path_factory, sample):
    """Search reports of archives written by hand (two axes, one axis, none), read back by `quadiv report`."""
    from quadiv.report import report_file

    tmp = tmp_path_factory.mktemp("browser-search")
    cases = {"two": sample.search(), "one": _one_axis(sample.search()), "none": _no_axes(sample.search())}
    out = {}
    for name, result in cases.items():
        report_file(sample.write_search(tmp, result, name), tmp / f"{name}.html")
        out[name] = (_dump(tmp / f"{name}.html", tmp), result)
    return out


def _classed(chart: Node, tag: str, cls: str) -> list:
    return [n for n in chart.find(tag) if cls in n.attrs.get("class", "").split()]


@pytest.mark.parametrize("name", ["two", "one", "none"])
def test_search_page_runs_no_payload(search_pages, name):
    dom = search_pages[name][0]
    assert [n.text() for n in dom.find("title") if n.parent.tag == "head"] == ["quadiv search report"]
    assert not {n.tag for n in dom.walk()} & {"quadiv-pwned", "img", "iframe", "object", "embed"}
    assert not [n for n in dom.walk() if any(attr.startswith("on") for attr in n.attrs)]
    assert len(dom.find("script")) == 2
    assert not dom.find("p", **{"class": "error"}), [n.text() for n in dom.find("p", **{"class": "error"})]


def test_search_heatmap_has_one_rect_per_cell_and_the_curve_its_lines(search_pages, sample):
    dom, result = search_pages["two"]
    chart = dom.by_id("heatmap-chart")
    filled, empty = _classed(chart, "rect", "cell"), _classed(chart, "rect", "empty")
    assert len(filled) == 5 and len(empty) == 3 * 4 - 5
    assert len({r.attrs["fill"] for r in filled}) == 5 and not [r for r in empty if "fill" in r.attrs]
    best = [r for r in filled if "best fitness: 0.95" in r.find("title")[0].text()]
    assert len(best) == 1 and best[0].attrs["fill"] == "rgb(253,231,37)"  # the top of the colour scale
    crowded = [r.find("title")[0].text() for r in filled if "elites: 3" in r.find("title")[0].text()]
    hover = (f"genre {sample.payloads[3]}: horror\nlength: 0.00-0.20\nelites: 3\nbest fitness: 0.9\n"
             f"best: {result['elites'][1]['text']}")
    assert crowded == [hover]
    assert len(_classed(chart, "rect", "scale")) == 20
    ticks = [t.find("title")[0].text() for t in chart.find("text") if t.find("title")]
    assert ticks == result["axes"][0]["labels"] + result["axes"][1]["labels"]
    assert f"genre {sample.payloads[3]}" in [t.text() for t in _classed(chart, "text", "label")]
    assert "empty cell (7)" in dom.by_id("heatmap-legend").text()
    curve = dom.by_id("qd-chart")
    assert len(_classed(curve, "polyline", "qd-line")) == 1 and len(_classed(curve, "polyline", "coverage-line")) == 1
    assert len(_classed(curve, "circle", "qd-pt")) == len(result["history"])


def test_search_hostile_text_stays_text_in_every_place(search_pages, sample):
    dom, result = search_pages["two"]
    assert sample.payloads[4] in dom.by_id("summary").text()  # the algorithm
    cells = [td.text() for td in dom.by_id("elites-section").find("td")]
    for elite in result["elites"]:
        assert elite["text"] in cells and elite["response"] in cells
    assert sample.payloads[1] in cells  # a parent
    hover = "\n".join(t.text() for t in dom.by_id("heatmap-chart").find("title"))
    for payload in (sample.payloads[0], sample.payloads[2], sample.payloads[3]):
        assert payload in hover


def test_search_with_one_axis_is_one_row_and_without_axes_has_no_heatmap(search_pages):
    dom, result = search_pages["one"]
    chart = dom.by_id("heatmap-chart")
    assert len(_classed(chart, "rect", "cell")) == 3 and not _classed(chart, "rect", "empty")
    assert len({r.attrs["y"] for r in _classed(chart, "rect", "cell")}) == 1
    assert [t.text() for t in _classed(chart, "text", "label")] == [result["axes"][0]["name"], "best fitness"]
    dom, result = search_pages["none"]
    assert not dom.find(id="heatmap-chart") and dom.find(id="qd-chart")
    assert "no archive heatmap: this archive has no axes" in dom.by_id("summary").text()
    assert len(dom.by_id("elites-section").find("tr")) == len(result["elites"]) + 1


"""PNG figures through matplotlib, and the error when it is missing."""
import sys

import pytest

from quadiv.errors import MissingDependencyError
from quadiv.report import build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_missing_matplotlib_names_the_extra(tmp_path, sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r"quadiv\[report\]"):
        build_report(sample.front(), tmp_path / "r.html", png_dir=tmp_path / "png")
    assert not (tmp_path / "r.html").exists()


def test_figures_for_the_panels_that_have_data(tmp_path, sample):
    image = pytest.importorskip("matplotlib.image", reason="matplotlib not installed: pip install 'quadiv[report]'")
    rows = sample.rows()
    rows["groups"]["labels"][0] = "$\\frac{broken mathtext$ and $5"  # must be drawn as text, not parsed
    build_report(sample.front(), tmp_path / "front.html", rows=rows, png_dir=tmp_path / "png")
    names = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert names == ["groups.png", "pareto.png", "quality.png"]
    for name in names:
        path = tmp_path / "png" / name
        assert path.read_bytes()[:8] == PNG_MAGIC
        pixels = image.imread(path)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 500 and pixels[..., :3].std() > 0.05
    build_report(sample.select(), tmp_path / "select.html", kind="select", png_dir=tmp_path / "none")
    assert not (tmp_path / "none").exists()

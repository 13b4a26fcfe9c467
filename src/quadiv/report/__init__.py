"""quadiv.report: one self-contained HTML page (no network needed to open it) and PNG figures.

- :func:`build_report`: a front, select or measure result as an HTML page, plus PNG figures.
- :func:`detect_kind`: which of the three a result dict is.
- :func:`project_2d`, :func:`map_rows`: a PCA map of embeddings for the page's map panel.
- :func:`group_rows`: per-group mean quality before and after a selection, for the bars panel.
- :func:`sample_rows`: a few chosen and rejected rows, for the sample tables.
- :func:`script_json`: JSON that is inert inside a ``<script>`` element.
"""
from quadiv.report._build import build_report
from quadiv.report._data import detect_kind
from quadiv.report._escape import script_json
from quadiv.report._project import map_rows, project_2d
from quadiv.report._rows import group_rows, sample_rows

__all__ = ["build_report", "detect_kind", "group_rows", "map_rows", "project_2d", "sample_rows", "script_json"]

"""quadiv.report: one self-contained HTML page (no network needed to open it) and PNG figures.

- :func:`build_report`: a front, select, measure or search result as an HTML page, plus PNG figures.
- :func:`report_file`: the report of a saved result JSON or search archive (what `quadiv report` runs).
- :func:`read_search`: a search archive (ARCHIVE.jsonl and its ARCHIVE.search.json) as a search result.
- :func:`check_elite`: one elite of a search archive, checked.
- :func:`say_written`: tell the user which files a report wrote.
- :func:`check_report_paths`: refuse a report path that is an input, in no folder, or a --png that is a file.
- :func:`detect_kind`: which of the four a result dict is; :func:`missing_panels`: what a result alone cannot draw.
- :func:`project_2d`, :func:`map_rows`: a PCA map of embeddings for the page's map panel.
- :func:`group_rows`: per-group mean quality before and after a selection, for the bars panel.
- :func:`sample_rows`: a few chosen and rejected rows, for the sample tables.
- :func:`selection_rows`: every panel of one selection (map, samples, quality before/after, groups).
- :func:`script_json`: JSON that is inert inside a ``<script>`` element.
"""
from quadiv.report._build import build_report
from quadiv.report._data import check_elite, detect_kind, missing_panels
from quadiv.report._escape import script_json
from quadiv.report._file import check_report_paths, read_search, report_file, say_written
from quadiv.report._project import map_rows, project_2d
from quadiv.report._rows import group_rows, sample_rows, selection_rows

__all__ = ["build_report", "check_elite", "check_report_paths", "detect_kind", "group_rows", "map_rows",
           "missing_panels", "project_2d", "read_search", "report_file", "sample_rows", "say_written", "script_json",
           "selection_rows"]

"""Read and write pools; turn their fields into texts, numbers and labels with file:row errors.

A **pool** is a pyarrow table with an ``id`` column and the user's fields. ``id`` is the input's own
``id`` field when it has one (integers as int64, text as string; empty ids are errors, uniqueness is
not checked), else the 0-based row number as int64, placed first.

Formats, chosen by extension:

- JSON Lines: ``.jsonl``, ``.ndjson`` (and ``.gz``); one object per line, streamed 16 MiB at a time.
- JSON: ``.json`` (and ``.gz``): a top-level array of objects, or an object whose ``"data"`` key
  holds that array (read whole); a ``.json`` file with one object per line (as
  ``Dataset.to_json`` writes) is read as JSON Lines.
- CSV/TSV: ``.csv``, ``.tsv`` (and ``.gz``); header row, quoted fields may span lines.
- Parquet: ``.parquet``.
- A directory written by ``datasets.Dataset.save_to_disk``: its Arrow files are memory-mapped
  directly, so the ``datasets`` package is not needed.

Errors are :class:`quadiv.errors.InputError` with one line naming the file, the line/row or field,
and the fix. Writes are atomic (temp file, fsync, ``os.replace``); inputs are only ever read.

- :func:`read`, :func:`iter_batches`: a whole pool, or a stream of record batches.
- :func:`write`, :func:`atomic_write`: by extension; an atomic file handle for any output.
- :func:`check_writable`: whether rows of a schema can be written to a path, before the work.
- :func:`render_texts`: a field or a template such as ``"{instruction}\\n\\n{output}"``.
- :func:`float_column`, :func:`string_column`: quality scores and group labels.
- :func:`take`: rows by index, in order.
- :func:`missing_field`: the InputError for a field the data lacks, listing those it has.
- :class:`Pool`, :func:`read_pool`, :func:`pool_quality`: a table plus its text field; quality columns
  under a policy for missing values.
- :func:`row_at`, :func:`row_label`: 'row N (id X)' for messages; N is the JSONL line, else the record, from 1.
"""
from quadiv.io._fields import float_column, render_texts, row_label, string_column, take
from quadiv.io._formats import detect_format, missing_field
from quadiv.io._lines import row_at
from quadiv.io._pool import Pool, guess_field, pool_quality, read_pool
from quadiv.io._read import iter_batches, read
from quadiv.io._write import atomic_write, check_writable, sync_directory, write

__all__ = [
    "Pool", "guess_field", "pool_quality", "read_pool",
    "atomic_write", "check_writable", "detect_format", "sync_directory", "float_column", "iter_batches", "missing_field", "read", "render_texts",
    "row_at", "row_label", "string_column", "take", "write",
]

"""Memory-mapped rows travel as (file, offset, rows) and are read where they are used."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from quadiv.engine._rows import FileRows, file_rows, resolved


def test_file_rows_of_a_memmap_and_its_views_read_the_same_rows(tmp_path: Path) -> None:
    X = np.random.default_rng(0).normal(size=(1000, 7)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    for view, expect in ((mapped, X), (np.asarray(mapped), X), (mapped[250:], X[250:]),
                         (np.ascontiguousarray(mapped, dtype=np.float32)[10:20], X[10:20])):
        for index in (slice(3, 40), np.array([0, 5, 9, 2])):
            part = file_rows(view, index)
            assert isinstance(part, FileRows) and len(part) == len(expect[index])
            assert np.array_equal(part.load(), expect[index])
    assert np.array_equal(resolved((file_rows(mapped, slice(0, 2)), 5))[0], X[:2])


def test_arrays_in_memory_and_strided_views_are_sliced_here(tmp_path: Path) -> None:
    X = np.arange(60, dtype=np.float32).reshape(20, 3)
    assert isinstance(file_rows(X, slice(0, 4)), np.ndarray)
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    columns = mapped[:, :2]  # not C-contiguous: no single byte range holds its rows
    assert np.array_equal(file_rows(columns, slice(1, 3)), X[1:3, :2])

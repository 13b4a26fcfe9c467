"""Rows of a memory-mapped array, named by file and read where they are used (a Ray worker), not shipped.

A pool's embeddings given as a memory-mapped ``.npy`` (``np.load(path, mmap_mode="r")``, as ``quadiv
--embeddings`` opens them) need not pass through the driver's memory or Ray's object store: a task or an
actor gets a :class:`FileRows` (path, byte offset, dtype, shape, which rows) and maps the file itself.
On a cluster the path must be readable on every node (a shared file system).
"""
from __future__ import annotations

import mmap
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FileRows:
    """Rows ``index`` (a slice or an array of row numbers) of the C-ordered array of ``shape`` and ``dtype``
    that starts ``offset`` bytes into the file at ``path``."""

    path: str
    offset: int
    dtype: str
    shape: tuple[int, ...]
    index: Any

    def load(self) -> np.ndarray:
        """The rows: a memory-mapped view for a slice, an in-memory copy for listed rows."""
        mapped = np.memmap(self.path, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape)
        return mapped[self.index]

    def __len__(self) -> int:
        return len(range(*self.index.indices(self.shape[0]))) if isinstance(self.index, slice) else len(self.index)


def file_rows(A: Any, index: Any) -> FileRows | np.ndarray:
    """``FileRows`` for ``A[index]`` when A is a C-contiguous view of a memory-mapped file, else ``A[index]``."""
    if not isinstance(A, np.ndarray) or not A.flags.c_contiguous:
        return A[index]
    root = A  # the array over the file's mapping: its first byte is byte ``offset`` of the file
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (isinstance(root, np.memmap) and isinstance(root.base, mmap.mmap) and root.filename):
        return A[index]
    start = A.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return FileRows(str(root.filename), int(root.offset) + int(start), A.dtype.str, A.shape, index)


def resolved(args: tuple) -> tuple:
    """``args`` with every FileRows read (in the worker that uses them)."""
    return tuple(a.load() if isinstance(a, FileRows) else a for a in args)

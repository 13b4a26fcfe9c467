"""Precomputed embeddings: a .npy file (memory-mapped) and a list-of-floats column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from quadiv.embed import embeddings_from_column, load_embeddings
from quadiv.errors import InputError, UsageError


def unit_rows(n: int, d: int, seed: int = 0) -> np.ndarray:
    X = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_npy_is_memory_mapped_and_returned_as_is(tmp_path):
    X = unit_rows(100, 8)
    X[3] = 0
    np.save(tmp_path / "x.npy", X)
    out = load_embeddings(tmp_path / "x.npy", 100)
    assert isinstance(out, np.memmap) and out.dtype == np.float32
    np.testing.assert_array_equal(out, X)
    assert not isinstance(load_embeddings(tmp_path / "x.npy", 100, mmap=False), np.memmap)


def test_npy_shape_errors_name_the_file_and_the_expected_shape(tmp_path):
    np.save(tmp_path / "x.npy", unit_rows(10, 4))
    with pytest.raises(
        InputError, match=r"x\.npy: expected an array of shape \(12, d\).*got shape \(10, 4\)"
    ):
        load_embeddings(tmp_path / "x.npy", 12)
    np.save(tmp_path / "flat.npy", np.ones(5, np.float32))
    with pytest.raises(InputError, match=r"flat\.npy.*shape \(5,\)"):
        load_embeddings(tmp_path / "flat.npy")
    np.save(tmp_path / "complex.npy", np.ones((3, 2), np.complex128))
    with pytest.raises(InputError, match=r"complex\.npy: expected numbers.*dtype complex128"):
        load_embeddings(tmp_path / "complex.npy", 3)
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(InputError, match=r"bad\.npy: cannot read"):
        load_embeddings(tmp_path / "bad.npy")
    with pytest.raises(InputError, match="expected a .npy file"):
        load_embeddings(tmp_path / "x.csv")


def test_npy_not_normalised_is_an_error_unless_asked(tmp_path):
    X = unit_rows(50, 6) * np.arange(1, 51, dtype=np.float32)[:, None]
    np.save(tmp_path / "x.npy", X.astype(np.float64))
    with pytest.raises(InputError, match="L2 norm.*normalize=True"):
        load_embeddings(tmp_path / "x.npy", 50)
    out = load_embeddings(tmp_path / "x.npy", 50, normalize=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, unit_rows(50, 6), atol=1e-6)
    raw = load_embeddings(tmp_path / "x.npy", 50, check=False)
    np.testing.assert_allclose(raw, X, rtol=1e-6)


def test_normalised_copy_rejects_non_finite_rows(tmp_path):
    X = unit_rows(20, 3)
    X[7, 1] = np.nan
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(InputError, match=r"x\.npy: row 8: NaN"):
        load_embeddings(tmp_path / "x.npy", normalize=True)


def test_column_is_read_and_normalised():
    X = unit_rows(5, 4) * 3
    table = pa.table({"id": list("abcde"), "emb": [row.tolist() for row in X]})
    np.testing.assert_allclose(embeddings_from_column(table, "emb"), X / 3, atol=1e-6)
    np.testing.assert_allclose(embeddings_from_column(table, "emb", normalize=False), X, atol=1e-6)
    fixed = pa.table({"emb": pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), 4)})
    np.testing.assert_allclose(embeddings_from_column(fixed, "emb"), X / 3, atol=1e-6)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([[1.0, 0.0], [1.0], [0.0, 1.0]], r"row 2 \(id 'b'\) has 1 values but row 1 \(id 'a'\) has 2"),
        ([[1.0, 0.0], [0.0, 1.0], [float("nan"), 1.0]], r"row 3 \(id 'c'\) holds a NaN"),
        ([[1.0, 0.0], [None, 1.0], [0.0, 1.0]], r"row 2 \(id 'b'\) holds a NaN, null"),
        ([[1.0, 0.0], None, [0.0, 1.0]], r"row 2 \(id 'b'\) is empty"),
        ([["x", "y"], ["z", "w"], ["u", "v"]], r"row 1 \(id 'a'\) holds lists of string, not numbers"),
        ([[[1.0]], [[2.0]], [[3.0]]], r"row 1 \(id 'a'\) holds lists of list<item: double>"),
        ([[], [], []], r"row 1 \(id 'a'\) is an empty list"),
    ],
)
def test_column_errors_name_the_row(values, message):
    table = pa.table({"id": list("abc"), "emb": values})
    with pytest.raises(InputError, match=message):
        embeddings_from_column(table, "emb")


def test_column_type_and_name_errors():
    table = pa.table({"emb": ["x", "y"]})
    with pytest.raises(InputError, match="lists of floats"):
        embeddings_from_column(table, "emb")
    with pytest.raises(UsageError, match="no column 'vec'"):
        embeddings_from_column(table, "vec")

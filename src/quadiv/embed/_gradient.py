"""Gradient embeddings for G-Vendi (Prismatic Synthesis): the projected loss gradient of each sample.

Jung et al. 2025, "Prismatic Synthesis: Gradient-based Data Diversification Boosts Generalization in LLM
Reasoning", arXiv 2505.20161. Verified (abstract, project page, Fig. 1 caption): G-Vendi is the entropy of
model-induced loss gradients under a small off-the-shelf proxy model, made tractable by a random projection.
Unverified (paper body not read here; METHODS.md sec. 1): the proxy (Qwen2.5-0.5B-Instruct recalled), the
projection width (1024 recalled), its type (Rademacher here, as TRAK/LESS) and which parameters (all here).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from quadiv._deps import require
from quadiv.embed._base import model_fingerprint, normalize_rows, quiet_transformers
from quadiv.errors import InputError, UsageError

PROMPT_SEPARATOR = "\x1e"  # ASCII record separator: prompt + PROMPT_SEPARATOR + response
_CHUNK_PARAMS = 8192  # parameters per block of the projection: a (8192, proj_dim) block of R at a time


def join_prompt(prompt: str, response: str) -> str:
    """One text that the gradient embedder splits back into (prompt, response); also the cache key."""
    if PROMPT_SEPARATOR in prompt:
        raise UsageError("a prompt holds the character U+001E, which the gradient embedder reserves to mark "
                         "where the response starts: remove it from the prompt")
    return f"{prompt}{PROMPT_SEPARATOR}{response}"


class GradientEmbedder:
    """The projected, L2-normalised gradient of each response's mean token NLL under a local causal LM.

    g_i = grad_theta (1/|y_i|) sum_t -log p_theta(y_t | x_i, y_<t), over every trainable parameter
    (prompt tokens x_i carry label -100: they condition the loss but are not scored); z_i = R^T g_i with
    R in {+-1/sqrt(proj_dim)}^(P x proj_dim) (Rademacher, seeded); v_i = z_i / ||z_i||. With these rows
    quadiv.measure.vendi is G-Vendi: exp(entropy of the eigenvalues of (1/N) sum_i v_i v_i^T).

    A text is the response alone (every token after BOS is scored) or ``join_prompt(prompt, response)``
    (the CLI builds it from `instruction_field`); a pair goes through the tokenizer's chat template when
    it has one, else prompt + blank line + response. R is never stored whole unless it fits in
    ``max_projection_bytes``: block b of 8,192 parameter rows is drawn from numpy's PCG64 seeded with
    (seed, b), so the same seed gives the same R on every device and with or without the cached blocks.
    Gradients are per sample, one backward each (torch.func.vmap over grad was no faster on CPU, see
    BENCHMARKS.md), and projected ``batch_size`` samples at a time.

    Parameters:
        proj_dim: width of the projection (the paper's 1024, unverified).
        seed: seed of the projection.
        batch_size: samples whose gradients are projected together.
        max_length: truncate each text to this many tokens.
        max_projection_bytes: keep R's blocks in memory when the whole R fits in this many bytes.
        device: torch device; default CUDA when available, else CPU.
        trust_remote_code: allow the model directory's own modelling code.
    """

    takes_prompt = True

    def __init__(self, model: str | os.PathLike, proj_dim: int = 1024, seed: int = 0, *, batch_size: int = 8,
                 max_length: int = 512, max_projection_bytes: int = 2**30, device: str | None = None,
                 trust_remote_code: bool = False):
        if proj_dim < 1 or batch_size < 1 or max_length < 2:
            raise UsageError(f"the gradient embedder needs proj_dim >= 1, batch_size >= 1 and max_length >= 2; "
                             f"got {proj_dim}, {batch_size} and {max_length}")
        self.path = Path(model).expanduser().resolve()
        if not (self.path / "config.json").is_file():
            raise InputError("not a transformers model directory (no config.json)", path=str(self.path),
                             fix="give grad:<dir> a local directory holding a causal language model")
        self.dim, self.seed, self.batch_size, self.max_length = int(proj_dim), int(seed), batch_size, max_length
        self.max_projection_bytes, self.device, self.trust_remote_code = max_projection_bytes, device, trust_remote_code
        self.name = (f"grad:{self.path}@{model_fingerprint(self.path)};proj_dim={self.dim},seed={self.seed},"
                     f"max_length={max_length}")
        self._model = self._tok = None
        self._blocks: dict[int, object] = {}

    @property
    def uses_gpu(self) -> bool:
        """Whether a task running it should hold a GPU: unless it was told to run elsewhere (``device``)."""
        return (self.device or "cuda").startswith("cuda")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, proj_dim) float32 unit rows: the projected gradient of each text's response loss."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for lo in range(0, len(texts), self.batch_size):
            rows = [self.tokens(t) for t in texts[lo:lo + self.batch_size]]
            out[lo:lo + len(rows)] = self.project(self.gradients(rows)).cpu().numpy()
        return normalize_rows(out)

    def tokens(self, text: str) -> tuple[list[int], list[int]]:
        """(input ids, labels) of one text: labels -100 on the prompt's tokens (and BOS), the ids elsewhere."""
        _, tok = self._loaded()
        prompt, sep, response = text.partition(PROMPT_SEPARATOR)
        if not sep:
            ids = tok(text, truncation=True, max_length=self.max_length).input_ids
            if tok.bos_token_id is not None and ids[:1] != [tok.bos_token_id]:
                ids = [tok.bos_token_id, *ids][:self.max_length]
            return ids, [-100, *ids[1:]]
        if getattr(tok, "chat_template", None):
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
            full = tok.apply_chat_template(messages, tokenize=False)
            begin = full.rfind(response) if response else len(full)
        else:
            full, begin = f"{prompt}\n\n{response}", len(prompt) + 2
        encoded = tok(full, add_special_tokens=not getattr(tok, "chat_template", None), truncation=True,
                      max_length=self.max_length, return_offsets_mapping=True)
        ids = encoded.input_ids
        start = next((i for i, (_, end) in enumerate(encoded["offset_mapping"]) if end > begin), len(ids))
        start = max(start, 1)
        return ids, [-100] * start + ids[start:]

    def gradients(self, rows: Sequence[tuple[list[int], list[int]]]):
        """(len(rows), P) float32 tensor: the flattened loss gradient of each row (zeros when nothing is scored)."""
        torch = require("torch", "models", "gradient embeddings")
        model, _ = self._loaded()
        params = [p for p in model.parameters() if p.requires_grad]
        G = torch.zeros((len(rows), sum(p.numel() for p in params)), dtype=torch.float32, device=self._device)
        for r, (ids, labels) in enumerate(rows):
            if all(label == -100 for label in labels[1:]):
                continue
            model.zero_grad(set_to_none=True)
            loss = model(input_ids=torch.tensor([ids], device=self._device),
                         labels=torch.tensor([labels], device=self._device)).loss
            loss.backward()
            G[r] = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                              for p in params])
        model.zero_grad(set_to_none=True)
        return G

    def project(self, G):
        """G @ R, R the seeded Rademacher matrix (+-1/sqrt(proj_dim)), built block by block."""
        torch = require("torch", "models", "gradient embeddings")
        Z = torch.zeros((G.shape[0], self.dim), dtype=torch.float32, device=G.device)
        keep = G.shape[1] * self.dim * 4 <= self.max_projection_bytes
        for b, lo in enumerate(range(0, G.shape[1], _CHUNK_PARAMS)):
            block = self._blocks.get(b)
            if block is None:
                block = self.projection_block(b, min(_CHUNK_PARAMS, G.shape[1] - lo)).to(G.device)
                if keep:
                    self._blocks[b] = block
            Z += G[:, lo:lo + block.shape[0]] @ block
        return Z

    def projection_block(self, b: int, rows: int):
        """Rows 8192 b .. 8192 b + rows - 1 of R as a float32 CPU tensor, drawn from PCG64 seeded (seed, b)."""
        torch = require("torch", "models", "gradient embeddings")
        signs = np.random.default_rng([self.seed, b]).integers(0, 2, size=(rows, self.dim), dtype=np.int8)
        return torch.from_numpy((signs.astype(np.float32) * 2.0 - 1.0) / np.float32(np.sqrt(self.dim)))

    def _loaded(self):
        if self._model is None:
            torch = require("torch", "models", f"embedding with {self.name}")
            transformers = require("transformers", "models", f"embedding with {self.name}")
            quiet_transformers()
            self._device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            try:
                self._tok = transformers.AutoTokenizer.from_pretrained(self.path,
                                                                       trust_remote_code=self.trust_remote_code)
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    self.path, dtype=torch.float32, trust_remote_code=self.trust_remote_code)
            except (OSError, ValueError) as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise InputError(f"cannot load a causal language model: {first}", path=str(self.path),
                                 fix="give a directory with config.json, the weights and the tokenizer files") from None
            if not self._tok.is_fast:
                raise InputError("the tokenizer is not a fast tokenizer, so the response's tokens cannot be found "
                                 "by offsets", path=str(self.path), fix="save a tokenizer.json with the model")
            self._model = model.to(self._device).eval()
        return self._model, self._tok

"""UDS: utility-diversity online batch selection for supervised fine-tuning (Zhang et al. 2025, "UDS").

Per micro-batch, before the backward pass, each sample b is scored from its logits L_b (l x V):

    u_b = ||L_b||_*                      utility: nuclear norm (sum of singular values) of the raw logits
    p_b = FastJL(L_b)                    r1*r2-dim sketch: random signs and a real FFT along the vocabulary,
                                         r2 random columns; the same along time, r1 random rows
    d_b = mean_j ||p_b - q_j||_2         diversity: mean distance to the queue of previously kept sketches
    s_b = u_b + alpha * d_b              the k_base best are trained on; their sketches join the FIFO queue

Departure from the reference scale (gfyddha/UDS, ``UDSamplingTrainer.py``): there u and d are raw, so
``alpha`` (2.5e-3) trades a nuclear norm against distances that FastJL inflates by a factor depending on
T and V (about 100 at T=64, V=500), and its meaning changes with the model. Here, by default, u and d
are z-scored within the micro-batch first (``normalize="zscore"``; ``"minmax"`` maps each to [0, 1]), so
``alpha = 1`` weighs them equally for any model; ``normalize=None, alpha=2.5e-3`` is the reference.
Signs and indices come from a seeded generator (the reference draws them from the global RNG).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from quadiv._deps import require
from quadiv.errors import UsageError

NORMALIZATIONS = ("zscore", "minmax", None)


def _torch():
    return require("torch", "models", "UDS batch selection")


class FastJLProjector:
    """FastJL sketch of a (T, V) matrix to ``rows * cols`` numbers (UDS eq. for p_b).

    The reference: x -> x * s_V (column signs), Re FFT over V, keep ``cols`` random columns, times
    sqrt(V / cols); then row signs s_T, Re FFT over T, keep ``rows`` random rows, times sqrt(T / rows),
    on inputs zero-padded to ``max_length`` rows (longer ones are cut to their first ``max_length``).
    For real input, Re FFT at the kept frequencies is a product with a cosine matrix, so the sketch is
    W_T[:, :l] @ x @ W_V with W_V[v, j] = s_v cos(2 pi k_j v / V) sqrt(V / cols) (V x cols) and W_T
    likewise (rows x T): about 2 l V rows FLOPs instead of full FFTs of a padded T x V copy, and the
    padding rows (zeros) are never touched. Distances are preserved up to a constant factor.
    Frequencies are drawn without repetition (the reference draws them with ``randint``).
    """

    def __init__(self, max_length: int, vocab_size: int, rows: int = 8, cols: int = 128, seed: int = 0):
        if not 1 <= rows <= max_length or not 1 <= cols <= vocab_size:
            raise UsageError(f"FastJL needs 1 <= rows <= max_length ({max_length}) and 1 <= cols <= vocab "
                             f"({vocab_size}); got rows={rows}, cols={cols}")
        torch = _torch()
        g = torch.Generator().manual_seed(seed)
        self.max_length, self.vocab_size, self.rows, self.cols = max_length, vocab_size, rows, cols
        self.col_signs = torch.randint(0, 2, (vocab_size,), generator=g) * 2 - 1
        self.col_freqs = torch.randperm(vocab_size, generator=g)[:cols]
        self.row_signs = torch.randint(0, 2, (max_length,), generator=g) * 2 - 1
        self.row_freqs = torch.randperm(max_length, generator=g)[:rows]
        self._vocab_side = _signed_cosines(self.col_freqs, self.col_signs).T.contiguous()  # (V, cols)
        self._time_side = _signed_cosines(self.row_freqs, self.row_signs)  # (rows, T)
        self._on_device: dict = {}

    @property
    def dim(self) -> int:
        return self.rows * self.cols

    def __call__(self, logits):
        """(B, l, V) logits -> (B, rows * cols) float32 sketches, on the logits' device."""
        x = logits.detach().float()[:, : self.max_length]
        if x.shape[-1] != self.vocab_size:
            raise UsageError(f"logits have {x.shape[-1]} vocabulary columns, the projector {self.vocab_size}")
        time_side, vocab_side = self._weights(x.device)
        return ((time_side[:, : x.shape[1]] @ x) @ vocab_side).reshape(x.shape[0], -1)

    def _weights(self, device):
        if device not in self._on_device:
            self._on_device[device] = (self._time_side.to(device), self._vocab_side.to(device))
        return self._on_device[device]


def _signed_cosines(freqs, signs):
    """(k, n) float32: signs[t] * cos(2 pi f t / n) * sqrt(n / k), the angle reduced mod n in integers."""
    torch = _torch()
    n, k = len(signs), len(freqs)
    phase = (freqs[:, None].long() * torch.arange(n)[None]) % n
    return (torch.cos(phase.double() * (2 * math.pi / n)) * signs.double() * math.sqrt(n / k)).float()


class SketchQueue:
    """FIFO queue of the last ``size`` kept sketches (a ring buffer; the oldest is overwritten first)."""

    def __init__(self, size: int, dim: int):
        if size < 1:
            raise UsageError(f"queue_size must be >= 1, got {size}")
        torch = _torch()
        self.size, self._items, self._next, self._count = size, torch.zeros(size, dim), 0, 0

    def __len__(self) -> int:
        return self._count

    @property
    def items(self):
        """The queued sketches, oldest first."""
        torch = _torch()
        if self._count < self.size:
            return self._items[: self._count]
        return torch.cat([self._items[self._next:], self._items[: self._next]])

    def push(self, sketches) -> None:
        for row in sketches.detach().float().cpu():
            self._items[self._next] = row
            self._next = (self._next + 1) % self.size
            self._count = min(self._count + 1, self.size)

    def mean_distance(self, sketches):
        """Mean Euclidean distance of each sketch to the queue; 0 while the queue is empty."""
        torch = _torch()
        if not self._count:
            return torch.zeros(len(sketches), device=sketches.device)
        queued = self._items[: self._count].to(sketches.device)
        return torch.cdist(sketches.float(), queued, p=2).mean(dim=1)


def nuclear_norms(logits):
    """(B, l, V) -> (B,): sum of the singular values of each sample's raw logits (UDS utility u_b).

    sigma_i = sqrt(lambda_i(x x^T)): the l x l Gram matrix (float32 product) and its eigenvalues in
    float64 cost a fifth of ``svdvals`` on (256, 32000) logits, relative error about 1e-6 (also with
    the large shared offset real logits have). The smaller side of x gives the Gram.
    """
    torch = _torch()
    x = logits.detach().float()
    gram = x @ x.transpose(1, 2) if x.shape[1] <= x.shape[2] else x.transpose(1, 2) @ x
    return torch.linalg.eigvalsh(gram.double()).clamp(min=0).sqrt().sum(dim=1).float()


def _normalized(values, how: str | None):
    if how is None or len(values) < 2:
        return values if how is None else values * 0
    if how == "zscore":
        spread = values.std(correction=0)
        return (values - values.mean()) / spread if spread > 0 else values * 0
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else values * 0


class UDSSelector:
    """Which samples of a micro-batch to train on: the ``k_base`` best by normalised u + alpha * d.

    ``alpha = 0`` keeps the highest-utility samples; a large ``alpha`` the ones farthest from the queue
    of kept samples. ``random=True`` keeps ``k_base`` at random (the paper's baseline). Before
    ``start_sampling_step`` every sample is kept and nothing is queued. Defaults: the reference trainer's
    (queue 1024, 8 x 128 sketch, k_base 4, the first step); ``max_length`` is the T of the sketch
    (the reference uses the training cutoff, else 512); a vocabulary under ``cols`` keeps all its columns.
    """

    def __init__(self, k_base: int = 4, alpha: float = 1.0, *, normalize: str | None = "zscore",
                 queue_size: int = 1024, rows: int = 8, cols: int = 128, max_length: int = 512,
                 start_sampling_step: int = 0, random: bool = False, seed: int = 0):
        if k_base < 1:
            raise UsageError(f"k_base must be >= 1, got {k_base}")
        if normalize not in NORMALIZATIONS:
            raise UsageError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
        if not math.isfinite(alpha) or alpha < 0:
            raise UsageError(f"alpha must be a finite number >= 0, got {alpha}")
        torch = _torch()
        self.k_base, self.alpha, self.normalize = k_base, alpha, normalize
        self.queue_size, self.rows, self.cols, self.max_length = queue_size, rows, cols, max_length
        self.start_sampling_step, self.random = start_sampling_step, random
        self.seed, self._generator = seed, torch.Generator().manual_seed(seed)
        self.projector: FastJLProjector | None = None
        self.queue: SketchQueue | None = None

    def __repr__(self) -> str:
        return (f"UDSSelector(k_base={self.k_base}, alpha={self.alpha}, normalize={self.normalize!r}, "
                f"queue_size={self.queue_size}, start_sampling_step={self.start_sampling_step})")

    def scores(self, logits):
        """(B,) scores s_b = N(u_b) + alpha * N(d_b) of a (B, l, V) batch against the current queue."""
        return self._scored(logits)[0]

    def _scored(self, logits):
        """(scores, sketches): each sample's sketch is computed once, for its distance and for the queue."""
        self._build(logits.shape[-1])
        utility = nuclear_norms(logits)
        sketches = self.projector(logits)
        distance = self.queue.mean_distance(sketches).to(utility.device)
        return _normalized(utility, self.normalize) + self.alpha * _normalized(distance, self.normalize), sketches

    def select(self, logits, step: int = 0) -> list[int]:
        """Indices (ascending) of the samples to train on; their sketches join the queue."""
        torch = _torch()
        n = logits.shape[0]
        if step < self.start_sampling_step or self.k_base >= n:
            return list(range(n))
        self._build(logits.shape[-1])
        if self.random:
            keep = sorted(torch.randperm(n, generator=self._generator)[: self.k_base].tolist())
            self.queue.push(self.projector(logits[keep]))
            return keep
        scores, sketches = self._scored(logits)
        keep = sorted(torch.topk(scores.cpu(), self.k_base).indices.tolist())
        self.queue.push(sketches[keep])
        return keep

    def _build(self, vocab_size: int) -> None:
        if self.projector is None or self.projector.vocab_size != vocab_size:
            self.projector = FastJLProjector(self.max_length, vocab_size, min(self.rows, self.max_length),
                                             min(self.cols, vocab_size), self.seed)
            self.queue = SketchQueue(self.queue_size, self.projector.dim)


def keep_rows(inputs: Mapping[str, Any], keep: list[int], n: int) -> dict[str, Any]:
    """The batch restricted to rows ``keep``: every tensor (or list) whose first dimension is ``n``."""
    kept = {}
    for name, value in inputs.items():
        if hasattr(value, "shape") and len(value.shape) and value.shape[0] == n:
            kept[name] = value[keep]
        elif isinstance(value, list) and len(value) == n:
            kept[name] = [value[i] for i in keep]
        else:
            kept[name] = value
    return kept


MODEL_INPUTS = ("input_ids", "attention_mask", "position_ids", "token_type_ids", "inputs_embeds")


@functools.cache
def trainer_class():
    """``UDSTrainer``, defined on first use so that importing quadiv.rewards does not import transformers."""
    torch = _torch()
    transformers = require("transformers", "models", "UDSTrainer")

    class UDSTrainer(transformers.Trainer):
        """``transformers.Trainer`` that trains each micro-batch only on the samples ``uds`` keeps.

        One extra forward pass without gradients gives the logits UDS scores; the loss of the kept
        samples is their own mean (divided by the accumulation steps, as the reference's Trainer did),
        not a share of the whole batch's token count. ``kept`` records the rows kept at each step.

            trainer = UDSTrainer(model=model, args=args, train_dataset=data, uds=UDSSelector(k_base=1))
        """

        def __init__(self, *args, uds: UDSSelector | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.uds = uds if uds is not None else UDSSelector(max_length=_max_length(self.args))
            self.kept: list[list[int]] = []

        def training_step(self, model, inputs, num_items_in_batch=None):
            inputs = self._prepare_inputs(inputs)
            n = _batch_size(inputs)
            if n is None or self.state.global_step < self.uds.start_sampling_step or self.uds.k_base >= n:
                return super().training_step(model, inputs, num_items_in_batch)
            with torch.no_grad():
                logits = model(**{k: v for k, v in inputs.items() if k in MODEL_INPUTS}).logits
            keep = self.uds.select(logits, self.state.global_step)
            del logits
            self.kept.append(keep)
            return super().training_step(model, keep_rows(inputs, keep, n), None)

    UDSTrainer.__module__, UDSTrainer.__qualname__ = "quadiv.rewards", "UDSTrainer"
    return UDSTrainer


def _batch_size(inputs: Mapping[str, Any]) -> int | None:
    ids = inputs.get("input_ids")
    return int(ids.shape[0]) if ids is not None and hasattr(ids, "shape") else None


def _max_length(args: Any) -> int:
    return int(getattr(args, "max_seq_length", None) or getattr(args, "max_length", None) or 512)


def __getattr__(name: str):
    if name == "UDSTrainer":
        return trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

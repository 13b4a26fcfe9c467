"""Diverse Beam Search: G groups of B/G beams, each group penalised for tokens earlier groups chose.

At step t, groups g = 1..G in order; for beam b of group g (score Θ_b) and token v,

    Θ(b, v) = Θ_b + log p(v | y^b, x) − λ · Δ_t(v),

where Δ_t(v), the Hamming diversity, is the number of times v is the last token of the B/G best
continuations Y^h_[t] that groups h < g chose at step t. Group g keeps its B/G best continuations by
Θ(b, v), and they carry Θ(b, v), penalty included, into step t + 1: Algorithm 1, line 5 overwrites
Θ with the augmented score before line 6 selects, and the authors' code (github.com/ashwinkalyan/dbs,
``beam_step``) accumulates it the same way. Group 1 is plain beam search; λ = 0 makes every group a
copy of B/G-beam search. Vijayakumar et al. 2018, "Diverse Beam Search: Decoding Diverse Solutions
from Neural Sequence Models" (AAAI; arXiv 1610.02424), eq. 3 and Algorithm 1 (Hamming diversity).

Finished hypotheses follow transformers' beam search (per group): a continuation ending in a stopping
criterion joins the group's B/G best finished ones with score Θ / length^length_penalty, with the same
early-stopping rules, and the group's running beams are refilled from its 2·B/G best continuations;
for G = 1 the output equals ``model.generate(num_beams=B)``. Each hypothesis also carries its
unpenalised log-probability. Where transformers' group beam search (4.x, now the Hub's
``transformers-community/group-beam-search``) differs: its penalty counts only the tokens of the
beams that continue, so an end token that group h chose at step t does not count against group g and
a later group can pick the very ending an earlier group just finished with; here Y^h_[t] is what group
h chose at step t, ended or not, as in the authors' code, where a finished beam keeps its slot at the
step it ends. Likewise a group whose hypotheses are final (early stopping) still steps and counts here,
as every group runs to the end in Algorithm 1, while transformers pads it; and transformers 4.x's
early-stop check takes the best of all 2·B/G continuations, ended ones included, where transformers
5's beam search, followed here, takes the running beams. On the tiny test LM, 149 of 150
configurations (B/G in 4/2, 4/4, 6/3, 6/2, 2/2; λ in 0.5, 1, 3; length_penalty 0 or 1; 6 new tokens)
equal transformers 4.51's group beam search; the one left differs by that early-stop check.
transformers 5.x moved group beam search to Hub code (``transformers-community/group-beam-search``)
that cannot load offline; :func:`diverse_beam_generate` is a ``custom_generate`` callable instead:

    model.generate(ids, num_beams=4, num_beam_groups=4, diversity_penalty=1.0,
                   custom_generate=diverse_beam_generate, return_dict_in_generate=True)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from quadiv.errors import UsageError
from quadiv.generate._base import Backend, GenRequest, StepDecoder, Strategy, register_strategy
from quadiv.generate.backends._transformers import import_torch

NEG = -1.0e9


@dataclass
class DiverseBeamOutput:
    """Finished hypotheses, best first per input: ids (prompt included, padded), scores, groups,
    generated lengths (the end token included) and log-probabilities."""

    sequences: Any
    sequences_scores: Any  # the diversity-augmented Θ over length^length_penalty (the ranking)
    groups: Any
    lengths: Any
    log_probs: Any  # unpenalised log-probability of the generated tokens


@dataclass
class _Groups:
    """Beam state, beams ordered group by group: running and finished sequences and their scores."""

    seqs: Any            # (batch, B, max_length) running sequences
    scores: Any          # (batch, G, B') diversity-augmented cumulative scores Θ of running beams
    logp: Any            # (batch, G, B') unpenalised cumulative log-probs of running beams
    fin_seqs: Any        # (batch, B, max_length)
    fin_scores: Any      # (batch, G, B') length-normalised Θ of finished hypotheses
    fin_logp: Any        # (batch, G, B') unpenalised log-probs of finished hypotheses
    fin_done: Any        # (batch, G, B') whether a finished slot holds a hypothesis
    fin_len: Any         # (batch, G, B') sequence length (prompt included) of each finished hypothesis
    open: Any            # (batch, G, 1) the early-stop heuristic still sees room for improvement


def diverse_beam_search(step: Callable[[Any, Any], Any], input_ids: Any, is_done: Callable[[Any], Any], *,
                        num_beams: int, num_groups: int, diversity_penalty: float, max_length: int,
                        length_penalty: float = 1.0, early_stopping: bool | str = False, n_eos: int = 1,
                        pad_token_id: int = 0) -> DiverseBeamOutput:
    """Run Diverse Beam Search (Hamming diversity) over a step function; all hypotheses, best first.

    ``input_ids`` is (batch·B, L), each prompt repeated B times. ``step(seqs, parents)`` returns the
    processed next-token log-probs (batch·B, V) of ``seqs`` (batch·B, t); ``parents`` (batch·B,) are the
    rows of the previous call that each row continues (``None`` on the first call), for cache reordering.
    ``is_done(seqs)`` flags rows that hit a stopping criterion (EOS, maximum length).
    """
    torch = import_torch()
    _check_beams(num_beams, num_groups)
    per, rows, prompt_len = num_beams // num_groups, input_ids.shape[0], input_ids.shape[1]
    batch, dev = rows // num_beams, input_ids.device
    state = _init_state(input_ids, batch, num_beams, num_groups, max_length, pad_token_id)
    keep = max(2, 1 + n_eos) * per
    parents, cur = None, prompt_len
    while True:
        logp = step(state.seqs[:, :, :cur].reshape(rows, cur), parents).float()
        logp = logp.view(batch, num_groups, per, -1)
        counts = torch.zeros((batch, logp.shape[-1]), device=dev)
        parent = torch.empty((batch, num_groups, per), dtype=torch.long, device=dev)
        hits = []
        for g in range(num_groups):
            parent[:, g], done = _group_step(state, g, logp[:, g], counts, cur, keep, per, prompt_len,
                                             is_done, diversity_penalty, length_penalty, early_stopping)
            hits.append(done)
        parents = (parent.view(batch, num_beams) + torch.arange(batch, device=dev)[:, None] * num_beams).view(-1)
        cur += 1
        _update_open(state, cur, max_length, prompt_len, length_penalty, early_stopping)
        if not _unfinished(state, torch.stack(hits, 1), early_stopping):
            return _output(state, num_groups, per, prompt_len)


def _check_beams(num_beams: int, num_groups: int) -> None:
    if num_beams < 1 or num_groups < 1 or num_beams % num_groups:
        raise UsageError(f"diverse beam search needs num_beams divisible by num_groups (both >= 1); got "
                         f"num_beams={num_beams}, num_groups={num_groups}")


def _init_state(input_ids: Any, batch: int, num_beams: int, num_groups: int, max_length: int,
                pad: int) -> _Groups:
    torch = import_torch()
    dev, per = input_ids.device, num_beams // num_groups
    seqs = torch.full((batch, num_beams, max_length), pad, dtype=torch.long, device=dev)
    seqs[:, :, :input_ids.shape[1]] = input_ids.view(batch, num_beams, -1)
    scores = torch.zeros((batch, num_groups, per), device=dev)
    scores[:, :, 1:] = NEG  # only the first beam of each group expands at the first step
    return _Groups(seqs=seqs, scores=scores, logp=torch.zeros_like(scores), fin_seqs=seqs.clone(),
                   fin_scores=torch.full((batch, num_groups, per), NEG, device=dev),
                   fin_logp=torch.zeros((batch, num_groups, per), device=dev),
                   fin_done=torch.zeros((batch, num_groups, per), dtype=torch.bool, device=dev),
                   fin_len=torch.zeros((batch, num_groups, per), dtype=torch.long, device=dev),
                   open=torch.ones((batch, num_groups, 1), dtype=torch.bool, device=dev))


def _group_step(state: _Groups, g: int, logp: Any, counts: Any, cur: int, keep: int, per: int,
                prompt_len: int, is_done: Callable[[Any], Any], penalty: float, length_penalty: float,
                early_stopping: bool | str) -> tuple[Any, Any]:
    """One beam step of group g against the token counts of earlier groups; returns (parents, done)."""
    batch, vocab = logp.shape[0], logp.shape[-1]
    cand = (state.logp[:, g, :, None] + logp).view(batch, -1)
    select = (state.scores[:, g, :, None] + logp - penalty * counts[:, None, :]).view(batch, -1)
    top_score, idx = select.topk(min(keep, select.shape[1]))
    beam, token, top_logp = idx // vocab, idx % vocab, cand.gather(1, idx)
    block = slice(g * per, (g + 1) * per)
    cand_seqs = _gather(state.seqs[:, block], beam).clone()
    cand_seqs[:, :, cur] = token
    done = is_done(cand_seqs[:, :, :cur + 1].reshape(-1, cur + 1)).view(batch, -1)
    nxt = done.int().sort(dim=1, stable=True).indices[:, :per]  # best B' by select, unfinished ones first
    state.seqs[:, block] = _gather(cand_seqs, nxt)
    state.scores[:, g] = (top_score + NEG * done).gather(1, nxt)
    state.logp[:, g] = top_logp.gather(1, nxt)
    counts.scatter_add_(1, token[:, :per], counts.new_ones((batch, per)))  # Y^g_[t]: the B' best, ended or not
    _finish(state, g, block, cand_seqs, top_score, top_logp, done, cur, per, prompt_len, length_penalty,
            early_stopping)
    return beam.gather(1, nxt) + g * per, done


def _finish(state: _Groups, g: int, block: slice, cand_seqs: Any, top_score: Any, top_logp: Any, done: Any,
            cur: int, per: int, prompt_len: int, length_penalty: float, early_stopping: bool | str) -> None:
    """Merge the continuations that just finished (among the top B') into group g's finished ones."""
    torch = import_torch()
    just = done & (torch.arange(done.shape[1], device=done.device) < per)[None, :]
    score = top_score / ((cur + 1 - prompt_len) ** length_penalty)
    full = state.fin_done[:, g].all(-1, keepdim=True) & (early_stopping is True)
    score = score + NEG * full + NEG * ~state.open[:, g] + NEG * ~just
    merged = torch.cat([state.fin_scores[:, g], score], 1)
    top = merged.topk(per).indices
    lengths = torch.cat([state.fin_len[:, g], torch.full_like(score, cur + 1, dtype=torch.long)], 1)
    state.fin_seqs[:, block] = _gather(torch.cat([state.fin_seqs[:, block], cand_seqs], 1), top)
    state.fin_scores[:, g] = merged.gather(1, top)
    state.fin_logp[:, g] = torch.cat([state.fin_logp[:, g], top_logp], 1).gather(1, top)
    state.fin_done[:, g] = torch.cat([state.fin_done[:, g], just], 1).gather(1, top)
    state.fin_len[:, g] = lengths.gather(1, top)


def _update_open(state: _Groups, cur: int, max_length: int, prompt_len: int, length_penalty: float,
                 early_stopping: bool | str) -> None:
    """transformers' early-stop heuristic, per group: can a running beam still beat a finished one?"""
    torch = import_torch()
    span = max_length - prompt_len if early_stopping == "never" and length_penalty > 0 else cur - prompt_len
    best = state.scores.max(-1, keepdim=True).values / (span ** length_penalty)
    worst = torch.where(state.fin_done, state.fin_scores.min(-1, keepdim=True).values, NEG)
    state.open = state.open & (best > worst).any(-1, keepdim=True)


def _unfinished(state: _Groups, hits: Any, early_stopping: bool | str) -> bool:
    improvable = bool(state.open.any())
    open_beam = not (bool(state.fin_done.all()) and early_stopping is True)
    return improvable and open_beam and not bool(hits.all())


def _output(state: _Groups, num_groups: int, per: int, prompt_len: int) -> DiverseBeamOutput:
    torch = import_torch()
    batch = state.fin_scores.shape[0]
    scores = state.fin_scores.view(batch, -1)
    order = scores.argsort(-1, descending=True)
    groups = torch.arange(num_groups, device=scores.device).repeat_interleave(per).expand(batch, -1)
    lengths = state.fin_len.view(batch, -1).gather(1, order)
    return DiverseBeamOutput(sequences=_gather(state.fin_seqs, order)[:, :, :int(lengths.max())],
                             sequences_scores=scores.gather(1, order), groups=groups.gather(1, order),
                             lengths=lengths - prompt_len, log_probs=state.fin_logp.view(batch, -1).gather(1, order))


def _gather(seqs: Any, idx: Any) -> Any:
    return seqs.gather(1, idx[:, :, None].expand(-1, -1, seqs.shape[-1]))


def diverse_beam_generate(model: Any, input_ids: Any, logits_processor: Any, stopping_criteria: Any,
                          generation_config: Any, synced_gpus: bool = False, **model_kwargs: Any) -> Any:
    """``custom_generate`` callable for transformers 5.x: Diverse Beam Search with the model's KV cache.

    Reads ``num_beams``, ``num_beam_groups`` (default 1), ``diversity_penalty`` (λ, default 0),
    ``length_penalty``, ``early_stopping`` and ``num_return_sequences`` from the generation config;
    ``logits_processor`` acts on log-probs, as in transformers' beam search. Returns the best
    ``num_return_sequences`` per input: ids, or a :class:`DiverseBeamOutput` with
    ``return_dict_in_generate=True``.
    """
    torch = import_torch()
    cfg = generation_config
    if model.config.is_encoder_decoder or synced_gpus or cfg.do_sample:
        raise UsageError("diverse beam search runs deterministic decoding of decoder-only models on one "
                         "device; set do_sample=False and use a causal LM")
    state = {"kwargs": model_kwargs}

    def step(seqs: Any, parents: Any) -> Any:
        kwargs = state["kwargs"]
        if parents is None:
            out = model._prefill(seqs, cfg, kwargs)
        else:
            if kwargs.get("cache") is not None:
                kwargs["cache"].reorder_cache(parents)
            inputs = model.prepare_inputs_for_generation(
                seqs, next_sequence_length=1 if kwargs.get("use_cache", True) else None, **kwargs)
            out = model(**inputs, return_dict=True)
        state["kwargs"] = model._update_model_kwargs_for_generation(out, kwargs, is_encoder_decoder=False)
        logp = torch.log_softmax(out.logits[:, -1, :].float(), -1)
        return logits_processor(seqs, logp)

    eos = cfg._eos_token_tensor
    result = diverse_beam_search(
        step, input_ids, lambda seqs: stopping_criteria(seqs, None), num_beams=cfg.num_beams,
        num_groups=cfg.num_beam_groups or 1, diversity_penalty=cfg.diversity_penalty or 0.0,
        max_length=cfg.max_length, length_penalty=cfg.length_penalty, early_stopping=cfg.early_stopping,
        n_eos=0 if eos is None else int(eos.numel()),
        pad_token_id=int(cfg._pad_token_tensor) if cfg._pad_token_tensor is not None else 0)
    k = cfg.num_return_sequences or 1
    seqs, scores, groups, lengths, log_probs = (t[:, :k].reshape(-1, *t.shape[2:]) for t in (
        result.sequences, result.sequences_scores, result.groups, result.lengths, result.log_probs))
    result = DiverseBeamOutput(seqs[:, :input_ids.shape[1] + int(lengths.max())], scores, groups, lengths, log_probs)
    return result if cfg.return_dict_in_generate else result.sequences


@register_strategy
class DiverseBeam(Strategy):
    """Diverse Beam Search (Vijayakumar et al. 2018) on a local model; deterministic, ``seed`` unused.

    ``num_beams`` B (default: n) in ``num_groups`` G groups (default: B, one beam per group, the most
    diverse), Hamming penalty ``diversity_penalty`` λ (the knob: larger is more diverse, less likely).
    Returns the n best of the B hypotheses; rows carry ``group``, ``sequence_score`` (the
    diversity-augmented score over length^length_penalty, by which they are ranked), ``log_prob`` (the
    unpenalised log-probability of the text) and ``num_tokens`` (generated tokens, the end token included).

    Parameters:
        num_beams: B, beams in all (None: n).
        num_groups: G, groups of B/G beams each (None: B, one beam per group).
        diversity_penalty: lambda, the weight of the Hamming diversity penalty (0: plain beam search).
        max_tokens: token cap of each hypothesis.
        length_penalty: hypotheses are ranked by score / length^length_penalty.
        early_stopping: stop a group once it has enough finished beams (True, False or "never").
        raw_prompt: send the prompt as raw text instead of through the chat template.
    """

    name = "diverse-beam"
    requires = frozenset({"beam_search", "step_decoder"})
    deterministic = True

    def __init__(self, num_beams: int | None = None, num_groups: int | None = None,
                 diversity_penalty: float = 1.0, max_tokens: int = 256, length_penalty: float = 1.0,
                 early_stopping: bool | str = False, raw_prompt: bool = False):
        if diversity_penalty < 0:
            raise UsageError(f"diverse-beam: diversity_penalty must be >= 0, got {diversity_penalty}")
        if num_beams is not None:
            _check_beams(num_beams, num_groups or num_beams)
        self.num_beams, self.num_groups, self.diversity_penalty = num_beams, num_groups, diversity_penalty
        self.max_tokens, self.length_penalty, self.early_stopping = max_tokens, length_penalty, early_stopping
        self.raw_prompt = raw_prompt

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:
        """The ``n`` best Diverse Beam Search hypotheses for ``prompt``, best first."""
        torch = import_torch()
        beams = self.num_beams or n
        groups = self.num_groups or beams
        _check_beams(beams, groups)
        if n > beams:
            raise UsageError(f"diverse-beam returns at most num_beams={beams} texts; asked for n={n}")
        # hasattr in a fixed order (isinstance's is a set's): a model that fails to load reports first.
        if not all(hasattr(backend, a) for a in ("lm", "tokenizer", "encode", "lock")):
            raise UsageError(f"strategy 'diverse-beam' needs a local model it can decode step by step; "
                             f"backend '{backend.name}' gives no model access: use the transformers backend")
        local = cast(StepDecoder, backend)
        text = {"prompt": prompt} if self.raw_prompt else {"messages": [{"role": "user", "content": prompt}]}
        ids = torch.tensor([local.encode(GenRequest(**text))], device=local.lm.device)
        with local.lock, torch.no_grad():
            out = local.lm.generate(
                ids, attention_mask=torch.ones_like(ids), custom_generate=diverse_beam_generate,
                num_beams=beams, num_beam_groups=groups, diversity_penalty=self.diversity_penalty,
                num_return_sequences=n, max_new_tokens=self.max_tokens, length_penalty=self.length_penalty,
                early_stopping=self.early_stopping, do_sample=False, return_dict_in_generate=True,
                pad_token_id=_pad_id(local.tokenizer))
        return [{"text": local.tokenizer.decode(out.sequences[j, ids.shape[1]:ids.shape[1] + int(length)],
                                                skip_special_tokens=True),
                 "group": int(out.groups[j]), "sequence_score": float(out.sequences_scores[j]),
                 "log_prob": float(out.log_probs[j]),
                 "num_tokens": int(length)} for j, length in enumerate(out.lengths)]


def _pad_id(tok: Any) -> int:
    return tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

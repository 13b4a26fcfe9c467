"""Loading local transformers models for the model-based scorers: path checks, fingerprints, batching.

Every model scorer takes a local model directory (``config.json`` + weights + tokenizer files), loaded
through ``from_pretrained(path)`` as users load models. A path that does not exist, has no
``config.json``, or holds another kind of model is an :class:`~quadiv.errors.InputError` naming it.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quadiv._deps import require
from quadiv.embed import model_fingerprint as fingerprint  # noqa: F401 (the scorers use it: one fingerprint)
from quadiv.errors import InputError, UsageError

SEQUENCE_CLASSIFICATION = "a transformers sequence-classification model (an *ForSequenceClassification in config.json)"
CAUSAL_LM = "a transformers causal language model (an *ForCausalLM or *LMHeadModel in config.json)"
_KIND_SUFFIXES = {SEQUENCE_CLASSIFICATION: ("ForSequenceClassification",),
                  CAUSAL_LM: ("ForCausalLM", "LMHeadModel")}
_KIND_AUTO = {SEQUENCE_CLASSIFICATION: "AutoModelForSequenceClassification", CAUSAL_LM: "AutoModelForCausalLM"}


def import_torch(purpose: str) -> Any:
    """torch, after checking that transformers imports too (the ``models`` extra)."""
    torch = require("torch", "models", purpose)
    require("transformers", "models", purpose)
    return torch


def model_dir(path: str | Path, kind: str) -> tuple[Path, dict]:
    """The resolved directory and its parsed config.json, checked to hold ``kind`` (InputError if not)."""
    resolved = Path(path).expanduser().resolve()
    fix = f"give a local directory that holds {kind}"
    if not resolved.exists():
        raise InputError("model path does not exist", path=str(resolved), fix=fix)
    if not (resolved / "config.json").is_file():
        raise InputError("not a transformers model directory (no config.json)", path=str(resolved), fix=fix)
    try:
        config = json.loads((resolved / "config.json").read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"config.json is unreadable: {err}", path=str(resolved), fix=fix) from None
    architectures = config.get("architectures") or []
    remote = _KIND_AUTO[kind] in (config.get("auto_map") or {})
    if not remote and not any(a.endswith(_KIND_SUFFIXES[kind]) for a in architectures):
        held = ", ".join(architectures) or f"a '{config.get('model_type', '?')}' model with no architectures"
        raise InputError(f"holds {held}, not {kind}", path=str(resolved), fix=fix)
    return resolved, config


def pick_device(device: str | None) -> str:
    """``device``, or CUDA when available, else CPU."""
    torch = import_torch("choosing a device")
    return device or ("cuda" if torch.cuda.is_available() else "cpu")


def load(path: Path, kind: str, *, device: str, dtype: str, trust_remote_code: bool) -> tuple[Any, Any]:
    """(model on ``device`` in eval mode, tokenizer) from a checked model directory."""
    import_torch(f"scoring with {path}")
    import transformers

    from quadiv.embed import quiet_transformers

    quiet_transformers()
    auto = getattr(transformers, _KIND_AUTO[kind])
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        model = auto.from_pretrained(path, dtype=dtype, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot load {kind}: {first}", path=str(path),
                         fix="give a directory with config.json, the weights and the tokenizer files") from None
    if tokenizer.pad_token_id is None:  # batching needs a pad token; the attention mask hides it
        if tokenizer.eos_token is None:
            raise InputError("the tokenizer has neither a pad nor an end-of-text token, so texts cannot be "
                             "batched", path=str(path), fix="add a pad_token to tokenizer_config.json")
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model.to(device).eval(), tokenizer


def check_batching(batch_size: int, max_length: int) -> None:
    """UsageError unless both are positive."""
    if batch_size < 1:
        raise UsageError(f"batch_size must be >= 1, got {batch_size}")
    if max_length < 1:
        raise UsageError(f"max_length must be >= 1 token, got {max_length}")


def pad(tokenizer: Any, rows: Sequence[Sequence[int]], device: str) -> tuple[Any, Any]:
    """(input_ids, attention_mask) tensors of token-id rows, padded on the tokenizer's padding side."""
    batch = tokenizer.pad({"input_ids": [list(r) for r in rows]}, padding=True, return_tensors="pt")
    return batch["input_ids"].to(device), batch["attention_mask"].to(device)


def chat_text(tokenizer: Any, path: Path, instruction: str, text: str) -> str:
    """The (instruction, response) pair as one string through the tokenizer's chat template, applied once."""
    if not getattr(tokenizer, "chat_template", None):
        raise InputError("the tokenizer has no chat template, so an (instruction, response) pair cannot be "
                         "formatted", path=str(path),
                         fix="add a chat_template to tokenizer_config.json, or score the texts without instructions")
    messages = [{"role": "user", "content": instruction}, {"role": "assistant", "content": text}]
    return tokenizer.apply_chat_template(messages, tokenize=False)


def settings(**values: object) -> str:
    """'a=1,b=x' of the settings that change scores, for a scorer's name."""
    return ",".join(f"{k}={v}" for k, v in values.items())

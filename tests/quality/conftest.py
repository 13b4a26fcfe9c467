"""Tiny random transformers models saved as local model directories (no download), for the model scorers."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("tiny_lm", Path(__file__).parents[1] / "generate" / "tiny_lm.py")
tiny_lm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_lm)


@pytest.fixture(scope="session")
def causal_lm_dir(tmp_path_factory) -> Path:
    """A LlamaForCausalLM at the usual small init (near-uniform next tokens) with a chat template."""
    return tiny_lm.save_tiny_lm(tmp_path_factory.mktemp("lm") / "lm", seed=0, init_std=0.02)


def _save_classifier(path: Path, arch: str, num_labels: int, padding_side: str = "right", **config) -> Path:
    import torch
    import transformers

    tok = tiny_lm.build_tokenizer()
    tok.padding_side = padding_side
    if arch == "bert":
        cfg = transformers.BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                      intermediate_size=64, num_labels=num_labels, pad_token_id=tok.pad_token_id,
                                      **config)
        model_cls = transformers.BertForSequenceClassification
    else:
        cfg = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                       num_labels=num_labels, pad_token_id=tok.pad_token_id,
                                       initializer_range=0.3, **config)
        model_cls = transformers.LlamaForSequenceClassification
    torch.manual_seed(0)
    model_cls(cfg).eval().save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def reward_dirs(tmp_path_factory) -> dict[str, Path]:
    """A one-output LlamaForSequenceClassification saved twice: tokenizer padding right and left."""
    root = tmp_path_factory.mktemp("rm")
    return {side: _save_classifier(root / side, "llama", 1, side) for side in ("right", "left")}


@pytest.fixture(scope="session")
def classifier_dirs(tmp_path_factory) -> dict[str, Path]:
    """A regression BertForSequenceClassification and a two-label one."""
    root = tmp_path_factory.mktemp("clf")
    return {"regression": _save_classifier(root / "reg", "bert", 1, problem_type="regression"),
            "binary": _save_classifier(root / "bin", "bert", 2, id2label={0: "low", 1: "high"},
                                       label2id={"low": 0, "high": 1})}

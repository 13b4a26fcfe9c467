"""A tiny random causal LM and word-level tokenizer built in memory (no download), for generation tests.

>>> model, tok = build_tiny_lm(seed=0)      # LlamaForCausalLM, PreTrainedTokenizerFast
>>> save_tiny_lm(tmp_path / "lm", seed=0)   # the same pair as a local model directory
"""
from __future__ import annotations

from pathlib import Path

WORDS = [
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "by", "with", "from", "for", "is",
    "are", "was", "were", "be", "been", "it", "this", "that", "these", "those", "cat", "dog", "bird",
    "fish", "horse", "cow", "sheep", "mouse", "lion", "tiger", "sun", "moon", "star", "sky", "sea",
    "river", "lake", "hill", "tree", "leaf", "red", "blue", "green", "black", "white", "small", "big",
    "old", "new", "fast", "slow", "happy", "sad", "bright", "dark", "quiet", "loud", "warm", "cold",
    "galaxy", "quasar", "exoplanet", "nebula", "comet", "orbit", "planet", "light", "dust", "gas",
    "runs", "sits", "flies", "swims", "sings", "grows", "falls", "shines", "sleeps", "eats",
]
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tokenizer():
    """A word-level PreTrainedTokenizerFast over WORDS with pad/unk/bos/eos and a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>",
        additional_special_tokens=SPECIALS[4:], padding_side="left")
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_tiny_lm(seed: int = 0, *, layers: int = 2, hidden: int = 32, init_std: float = 0.3,
                  eos_scale: float = 1.0):
    """(model, tokenizer): a seeded random LlamaForCausalLM over the word-level vocabulary, in eval mode.

    ``init_std`` is larger than a real model's so that next-token distributions are peaked and beam
    search comparisons are free of near-ties; ``eos_scale`` < 1 shrinks the end-of-text logit so that
    generations run longer.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = build_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        initializer_range=init_std, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        model.lm_head.weight[tok.eos_token_id] *= eos_scale
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def save_tiny_lm(path: Path, seed: int = 0, **kwargs) -> Path:
    """Write the tiny model and its tokenizer to ``path`` as a local model directory."""
    model, tok = build_tiny_lm(seed, **kwargs)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return Path(path)


def save_prompt_blind_lm(path: Path, seed: int = 0) -> Path:
    """A tiny model whose replies ignore the prompt: zero token embeddings make every next-token
    distribution uniform, so a text depends on the sampling seed alone."""
    import torch

    model, tok = build_tiny_lm(seed)
    with torch.no_grad():
        model.model.embed_tokens.weight.zero_()
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return Path(path)

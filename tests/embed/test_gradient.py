"""The gradient embedder and G-Vendi (METHODS.md sec. 1 checks) on a tiny random causal LM saved to a temp dir."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quadiv.embed import EmbeddingCache, GradientEmbedder, embed, get_embedder, join_prompt
from quadiv.errors import InputError, UsageError
from quadiv.measure import vendi

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

_spec = importlib.util.spec_from_file_location("tiny_lm", Path(__file__).parents[1] / "generate" / "tiny_lm.py")
tiny_lm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_lm)

PAIRS = [("the cat sits on the hill", "a dog runs fast"), ("the sun shines", "the moon is dark and cold"),
         ("a bird flies", "the fish swims in the lake"), ("the sky is blue", "a red star falls"),
         ("an old tree grows", "the green leaf falls from the tree"), ("the sea is loud", "a white sheep sleeps"),
         ("the galaxy", "a comet and a nebula"), ("the lion eats", "the tiger is fast and big")]
TEXTS = [join_prompt(p, r) for p, r in PAIRS]


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory) -> Path:
    return tiny_lm.save_tiny_lm(tmp_path_factory.mktemp("gradlm") / "lm", seed=0, init_std=0.02)


def kernel_vendi(X: np.ndarray) -> float:
    """exp of the Shannon entropy of the eigenvalues of K / N, K the cosine kernel (the kernel form)."""
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    lam = np.linalg.eigvalsh((U @ U.T).astype(np.float64) / len(U))
    lam = lam[lam > 1e-12]
    return float(np.exp(-np.sum(lam * np.log(lam))))


def raw_gradient(model, ids: list[int], start: int) -> torch.Tensor:
    """grad of (1/|y|) sum_t -log softmax(logits)_{y_t}, written out by hand over the response positions."""
    model.zero_grad(set_to_none=True)
    logits = model(input_ids=torch.tensor([ids])).logits[0]
    logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    target = torch.tensor(ids[1:])
    nll = -logp[torch.arange(len(target)), target][start - 1:]
    nll.mean().backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def test_feature_form_equals_kernel_form(lm_dir):
    X = GradientEmbedder(lm_dir, proj_dim=256).encode(TEXTS)
    assert X.shape == (8, 256) and np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert vendi(X) == pytest.approx(kernel_vendi(X), rel=1e-5)
    assert 1.0 < vendi(X) <= 8.0


def test_a_repeated_set_scores_as_the_set_and_identical_rows_score_one(lm_dir):
    model = GradientEmbedder(lm_dir, proj_dim=128)
    X = model.encode(TEXTS[:4])
    repeated = model.encode(TEXTS[:4] * 3)
    assert np.allclose(repeated, np.tile(X, (3, 1)), atol=1e-6)
    assert vendi(repeated) == pytest.approx(vendi(X), rel=1e-5)
    assert vendi(model.encode([TEXTS[0]] * 5)) == pytest.approx(1.0, abs=1e-5)


def test_orthogonal_rows_score_n():
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((1024, 6)))
    assert vendi(Q.T.astype(np.float32)) == pytest.approx(6.0, rel=1e-5)
    assert kernel_vendi(Q.T) == pytest.approx(6.0, rel=1e-9)


def test_the_seed_fixes_the_projection_and_the_score(lm_dir):
    a, b, c = (GradientEmbedder(lm_dir, proj_dim=64, seed=s) for s in (0, 0, 1))
    assert torch.equal(a.projection_block(3, 100), b.projection_block(3, 100))
    assert not torch.equal(a.projection_block(3, 100), c.projection_block(3, 100))
    assert not torch.equal(a.projection_block(0, 100), a.projection_block(1, 100))
    block = a.projection_block(0, 2000)
    assert set(torch.unique(block).tolist()) == {-1 / 8, 1 / 8}
    Xa, Xb, Xc = a.encode(TEXTS), b.encode(TEXTS), c.encode(TEXTS)
    assert np.array_equal(Xa, Xb) and vendi(Xa) == vendi(Xb)
    assert not np.allclose(Xa, Xc)
    assert a.name == b.name != c.name  # the cache keeps the two projections apart


def test_blocks_drawn_on_demand_equal_the_kept_ones(lm_dir):
    kept = GradientEmbedder(lm_dir, proj_dim=32).encode(TEXTS[:3])
    streamed_model = GradientEmbedder(lm_dir, proj_dim=32, max_projection_bytes=0)
    streamed = streamed_model.encode(TEXTS[:3])
    assert np.allclose(kept, streamed, atol=1e-6) and not streamed_model._blocks


def test_prompt_tokens_carry_no_loss_and_the_gradient_is_the_response_nll(lm_dir):
    model = GradientEmbedder(lm_dir, proj_dim=16)
    ids, labels = model.tokens(TEXTS[0])
    start = next(i for i, label in enumerate(labels) if label != -100)
    tok = model._loaded()[1]
    assert tok.convert_ids_to_tokens(ids[:start]) == ["<|user|>", "the", "cat", "sits", "on", "the", "hill", "</s>",
                                                      "<|assistant|>"]
    assert labels[start:] == ids[start:] and tok.decode(ids[start:]).startswith("a dog runs fast")
    G = model.gradients([(ids, labels)])[0]
    assert torch.allclose(G, raw_gradient(model._loaded()[0], ids, start), atol=1e-6)
    other = model.tokens(join_prompt("a big horse", PAIRS[0][1]))
    assert other[0][-5:] == ids[-5:]  # the same response ...
    assert not torch.allclose(model.gradients([other])[0], G)  # ... in another context: another gradient


def test_a_text_without_prompt_scores_every_token_after_bos(lm_dir):
    model = GradientEmbedder(lm_dir, proj_dim=16)
    ids, labels = model.tokens("the cat sits")
    tok = model._loaded()[1]
    assert ids[0] == tok.bos_token_id and labels[1:] == ids[1:]
    assert not np.any(model.encode([""]))  # nothing to score: a zero row, which measure reads as the empty point


def test_projected_kernel_approximates_the_raw_gradient_kernel(lm_dir):
    model = GradientEmbedder(lm_dir, proj_dim=2048)
    G = model.gradients([model.tokens(t) for t in TEXTS]).numpy().astype(np.float64)
    U = G / np.linalg.norm(G, axis=1, keepdims=True)
    X = model.encode(TEXTS).astype(np.float64)
    assert G.shape[1] > 2048 * 10  # a true compression
    assert np.abs(X @ X.T - U @ U.T).max() < 0.1  # JL: error ~ 1/sqrt(2048) = 0.022 per entry; a few sigma
    assert vendi(X) == pytest.approx(kernel_vendi(U), rel=0.05)


def test_registered_as_grad_and_cached(lm_dir, private_cache):
    model = get_embedder(f"grad:{lm_dir}", proj_dim=32)
    assert isinstance(model, GradientEmbedder) and model.dim == 32
    first = embed(TEXTS, embedder=model)
    assert len(EmbeddingCache(model.name)) == len(TEXTS)
    assert np.array_equal(first, embed(TEXTS, embedder=model))
    with pytest.raises(UsageError, match="grad:/path/to/model"):
        get_embedder("grad")
    with pytest.raises(InputError, match="no config.json"):
        get_embedder(f"grad:{lm_dir.parent}")
    with pytest.raises(UsageError, match="U\\+001E"):
        join_prompt("a\x1eb", "c")


def test_measure_and_select_in_gradient_space_from_the_command_line(lm_dir, tmp_path, private_cache):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"instruction": p, "output": r}) + "\n" for p, r in PAIRS))

    def run(*args: str) -> dict:
        proc = subprocess.run([sys.executable, "-m", "quadiv", *args, "--embedder", f"grad:{lm_dir}", "--json"],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    out = run("measure", str(path), "--field", "output", "--instruction-field", "instruction", "--metrics", "vendi")
    assert out["metrics"]["vendi"] == pytest.approx(vendi(GradientEmbedder(lm_dir).encode(TEXTS)), rel=1e-5)
    alone = run("measure", str(path), "--field", "output", "--metrics", "vendi")["metrics"]["vendi"]
    assert alone == pytest.approx(vendi(GradientEmbedder(lm_dir).encode([r for _, r in PAIRS])), rel=1e-5)
    chosen = run("select", str(path), "--field", "output", "--instruction-field", "instruction", "-n", "3",
                 "--method", "prismatic", "-o", str(tmp_path / "chosen.jsonl"))
    assert chosen["method"] == "prismatic" and chosen["selected"] == 3
    assert len((tmp_path / "chosen.jsonl").read_text().splitlines()) == 3

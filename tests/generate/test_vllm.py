"""The vLLM backend without vLLM: a fake ``vllm`` module records what the backend asks of it."""
import json
import re
import sys
import threading
import time
import types
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
import tomllib

from quadiv.errors import MissingDependencyError, UsageError
from quadiv.generate import GenerationCancelled, GenRequest, VLLMBackend
from quadiv.generate.backends import _vllm


class FakeLLM:
    def __init__(self, model, **kwargs):
        self.model, self.kwargs, self.calls = model, kwargs, []

    def _outputs(self, prompts, params):
        outs = []
        for prompt, p in zip(prompts, params if isinstance(params, list) else [params] * len(prompts)):
            ids = prompt["prompt_token_ids"] if isinstance(prompt, dict) else [7, 8]
            steps = [{5: NS(logprob=-0.5, rank=1, decoded_token="a"), 6: NS(logprob=-1.5, rank=2, decoded_token="b"),
                      9: NS(logprob=-3.0, rank=7, decoded_token="z")}] * 2
            outputs = [NS(text=f"t{j}", token_ids=[5, 9], finish_reason="length", logprobs=steps)
                       for j in range(p.kw["n"])]
            prompt_logprobs = [None] + [{t: NS(logprob=-0.1 * i, rank=1, decoded_token="")}
                                        for i, t in enumerate(ids) if i > 0]
            outs.append(NS(prompt_token_ids=ids, outputs=outputs, prompt_logprobs=prompt_logprobs))
        return outs

    def chat(self, messages, sampling_params, use_tqdm):
        self.calls.append(("chat", messages, sampling_params))
        return self._outputs(messages, sampling_params)

    def generate(self, prompts, sampling_params, use_tqdm):
        self.calls.append(("generate", prompts, sampling_params))
        return self._outputs(prompts, sampling_params)

    def get_tokenizer(self):
        return SimpleTokenizer()


class SimpleTokenizer:
    def __call__(self, text, add_special_tokens=True):
        return NS(input_ids=([1] if add_special_tokens else []) + [len(w) for w in text.split()])


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = FakeLLM
    module.SamplingParams = lambda **kw: NS(kw=kw)
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setattr(_vllm, "_ENGINES", {})  # each test builds its own engine
    return module


def test_capabilities_exclude_model_calls_in_the_engine():
    caps = VLLMBackend("m").capabilities
    assert {"chat", "raw_completion", "n_samples", "seed", "top_logprobs", "top_k", "min_p"} <= caps
    assert not caps & {"logits_hook", "multi_model_step", "step_decoder"}


def test_request_to_sampling_params(fake_vllm):
    backend = VLLMBackend("m")
    full = backend.sampling_params(GenRequest(prompt="x", n=3, temperature=0.7, top_p=0.9, top_k=20, min_p=0.05,
                                              max_tokens=64, stop=["\n"], seed=5, logprobs=4)).kw
    assert full == {"n": 3, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "seed": 5,
                    "max_tokens": 64, "stop": ["\n"], "logprobs": 4}
    off = backend.sampling_params(GenRequest(prompt="x")).kw
    assert (off["top_k"], off["min_p"], off["stop"], off["seed"], off["logprobs"]) == (0, 0.0, None, None, None)


def test_generate_routes_chat_and_raw_and_converts(fake_vllm):
    backend = VLLMBackend("org/model", engine_kwargs={"gpu_memory_utilization": 0.5})
    chat = GenRequest(messages=[{"role": "user", "content": "hi"}], n=2, logprobs=2)
    out = backend.generate([chat, GenRequest(prompt="raw", n=1)])
    assert backend.llm.kwargs == {"max_logprobs": 20, "gpu_memory_utilization": 0.5}
    assert [c[0] for c in backend.llm.calls] == ["chat", "generate"]
    assert backend.llm.calls[0][1] == [chat.messages] and backend.llm.calls[1][1] == ["raw"]
    assert [len(r) for r in out] == [2, 1] and out[0][1].text == "t1"
    first = out[0][0]
    assert first.finish_reason == "length" and first.extras == {"prompt_tokens": 2, "completion_tokens": 2}
    assert first.token_logprobs == [-0.5, -3.0]
    assert first.top_logprobs == [{"a": -0.5, "b": -1.5}] * 2  # the sampled token of rank 7 is not in the top 2
    assert out[1][0].token_logprobs is None


def test_score_reads_prompt_logprobs_of_the_continuation(fake_vllm):
    backend = VLLMBackend("m")
    got = backend.score([GenRequest(prompt="ab cde")], ["xyzw q"])
    _, prompts, params = backend.llm.calls[0]
    assert prompts == [{"prompt_token_ids": [1, 2, 3, 4, 1]}]
    assert params.kw["prompt_logprobs"] == 0 and params.kw["max_tokens"] == 1
    assert got == [pytest.approx([-0.3, -0.4])]
    assert backend.label_logprobs(GenRequest(prompt="ab cde"), ["xyzw q"]) == {"xyzw q": pytest.approx(-0.7)}


def test_missing_vllm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependencyError, match=r"quadiv\[vllm\]"):
        VLLMBackend("m").generate([GenRequest(prompt="x")])


class SlowToBuildLLM(FakeLLM):
    """Counts its constructions; building takes a while, as a real engine's does, so racing threads overlap."""

    built = 0

    def __init__(self, model, **kwargs):
        type(self).built += 1
        time.sleep(0.2)
        super().__init__(model, **kwargs)


def test_one_engine_at_the_default_concurrency_with_options_and_usage(fake_vllm, tmp_path, monkeypatch):
    from test_generate_cli import invoke

    monkeypatch.setattr(fake_vllm, "LLM", SlowToBuildLLM)
    monkeypatch.setattr(SlowToBuildLLM, "built", 0)
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"prompt {i}\n" for i in range(16)))
    out = tmp_path / "out.jsonl"
    result = invoke(prompts, "-b", "vllm", "-m", "org/model", "-n", 2, "-o", out, "--json", "--quiet",
                    "--backend-option", "max_model_len=4096", "--backend-option", "gpu-memory-utilization=0.5",
                    "--backend-option", "enforce_eager=true")
    assert result.exit_code == 0, result.output
    assert SlowToBuildLLM.built == 1
    (engine,) = _vllm._ENGINES.values()
    assert engine.kwargs == {"max_logprobs": 20, "max_model_len": 4096, "gpu_memory_utilization": 0.5,
                             "enforce_eager": True}
    usage = json.loads(result.stdout)["usage"]
    assert usage == {"requests": 16, "prompt_tokens": 16 * 2, "completion_tokens": 16 * 2 * 2}


def test_two_backends_of_one_model_share_the_engine(fake_vllm):
    first, second = VLLMBackend("m"), VLLMBackend("m")
    assert first.llm is second.llm and VLLMBackend("m", max_model_len=512).llm is not first.llm


def test_a_bad_memory_fraction_is_a_usage_error():
    with pytest.raises(UsageError, match=r"gpu_memory_utilization is a fraction in \(0, 1\], got 2"):
        VLLMBackend("m", gpu_memory_utilization=2)


def test_the_install_hint_names_an_extra_that_exists(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(MissingDependencyError) as err:
        VLLMBackend("m").generate([GenRequest(prompt="x")])
    extra = re.search(r"quadiv\[(\w+)\]", str(err.value)).group(1)
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert extra in pyproject["project"]["optional-dependencies"]


def test_cancel_makes_waiting_calls_raise_and_later_calls_run(fake_vllm, monkeypatch):
    backend = VLLMBackend("m")
    engine, reached, errors = backend.llm, threading.Event(), []
    monkeypatch.setattr(VLLMBackend, "llm", property(lambda self: reached.set() or engine))

    def call():
        try:
            backend.generate([GenRequest(prompt="x")])
        except GenerationCancelled as err:
            errors.append(err)

    with backend.lock:  # the engine is busy with another call
        waiting = threading.Thread(target=call)
        waiting.start()
        reached.wait(30)  # the call has started and waits for the engine
        backend.cancel()
    waiting.join()
    assert len(errors) == 1 and engine.calls == []
    assert backend.generate([GenRequest(prompt="x")])[0][0].text == "t0"

"""The vLLM backend without vLLM: a fake ``vllm`` module records what the backend asks of it."""
import sys
import types
from types import SimpleNamespace as NS

import pytest

from quadiv.errors import MissingDependencyError
from quadiv.generate._base import GenRequest
from quadiv.generate._vllm import VLLMBackend


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

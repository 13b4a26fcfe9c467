"""Strategy parameters as `quadiv methods` lists them, --param names checked, capability hints."""
from __future__ import annotations

import pytest

import quadiv.generate  # noqa: F401 (registers every backend and strategy)
from quadiv.errors import UsageError
from quadiv.generate import REQUIRED, STRATEGIES, Sampling, Strategy, check_capabilities, get_strategy


def test_describe_lists_constructor_parameters_with_defaults_and_meanings():
    table = {p.name: p for p in Sampling.describe()}
    assert list(table) == ["temperature", "top_p", "min_p", "max_tokens", "system", "logprobs"]
    assert table["max_tokens"].default == 512 and "cap" in table["max_tokens"].help


def test_a_subclass_taking_params_lists_its_base_parameters_after_its_own():
    names = [p.name for p in STRATEGIES["idiv-se"].describe()]
    assert names[0] == "size" and {"n_approaches", "max_tokens", "retries"} <= set(names)
    moa = {p.name: p for p in STRATEGIES["self-moa"].describe()}
    assert moa["window"].help and moa["n_candidates"].help and moa["n_candidates"].default == 4


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_documents_every_parameter(name):
    undocumented = [p.name for p in STRATEGIES[name].describe() if not p.help]
    assert undocumented == []


def test_required_parameters_have_no_default():
    class Needs(Strategy):
        """A strategy with a required parameter.

        Parameters:
            model: the model to ask,
                over two lines.
        """

        def __init__(self, model: str, k: int = 2):
            self.model, self.k = model, k

    assert [(p.name, p.default, p.help) for p in Needs.describe()] == [
        ("model", REQUIRED, "the model to ask, over two lines."), ("k", 2, "")]


def test_an_unknown_parameter_name_lists_the_valid_ones():
    with pytest.raises(UsageError, match=r"strategy 'sampling' has no parameter 'foo'; its parameters are: "
                                         r"temperature, top_p, min_p, max_tokens, system"):
        get_strategy("sampling", foo=1)
    with pytest.raises(UsageError, match="'judge_max_tokens'.*n_candidates"):
        get_strategy("fusion", judge_max_tokens=16)


class Chat:
    name, model, capabilities = "chat-only", "m", frozenset({"chat"})


def test_min_p_hint_names_the_servers_that_have_it():
    with pytest.raises(UsageError) as err:
        check_capabilities(Sampling(min_p=0.1), Chat())
    assert "`backend` vllm" in str(err.value) and "vLLM's" in str(err.value) and "logits" not in str(err.value)


def test_logits_hint_names_the_local_backend():
    with pytest.raises(UsageError, match=r"needs logits_hook, multi_model_step.*`backend` transformers\)"):
        check_capabilities(STRATEGIES["steer"](gamma=0), Chat())


@pytest.mark.parametrize("name, params, message", [
    ("fusion", {"judge": "gpt-4"}, "judge must be a Backend object"),
    ("negative", {"embed_fn": "static"}, "embed_fn must be a function"),
])
def test_python_only_parameters_given_as_text_are_usage_errors(name, params, message):
    with pytest.raises(UsageError, match=message):
        get_strategy(name, **params)

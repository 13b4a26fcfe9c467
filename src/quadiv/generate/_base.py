"""The generation contracts: requests, completions, backends with capabilities, strategies.

Backends declare what they offer (``capabilities``); strategies declare what they need
(``requires``). :func:`check_capabilities` refuses a mismatch before any request is sent, never
approximating silently (GENERATION.md, sec. 12.1).

Capability names (GENERATION.md 12.1): ``chat``, ``raw_completion``, ``n_samples``, ``seed``,
``top_logprobs``, ``label_logprobs``, ``prompt_scoring``, ``step_decoder``, ``logits_hook``,
``multi_model_step``, ``structured_output``, ``beam_search``, ``min_p``, ``top_k``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from quadiv._params import Parameter, describe_params
from quadiv._registry import Registry
from quadiv.errors import UsageError

CAPABILITIES = frozenset({
    "chat", "raw_completion", "n_samples", "seed", "top_logprobs", "label_logprobs", "prompt_scoring", "step_decoder",
    "logits_hook", "multi_model_step", "structured_output", "beam_search", "min_p", "top_k"})


@dataclass
class GenRequest:
    """One generation request: chat ``messages`` (or a raw ``prompt``) and sampling parameters."""

    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int | None = None
    min_p: float | None = None
    max_tokens: int = 512
    stop: list[str] | None = None
    seed: int | None = None
    logprobs: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Completion:
    """One generated text and what the backend reported about it."""

    text: str
    finish_reason: str | None = None
    token_logprobs: list[float] | None = None
    top_logprobs: list[dict[str, float]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A model behind one interface; ``generate`` returns, per request, its ``n`` completions."""

    name: str
    model: str
    capabilities: frozenset[str]

    def generate(self, requests: Sequence[GenRequest]) -> list[list[Completion]]: ...


class StepDecoder(Protocol):
    """Capability ``step_decoder``: a local model that a strategy decodes step by step itself.

    ``lm`` is the torch causal LM and ``tokenizer`` its tokenizer; ``encode`` gives a request's prompt
    token ids (chat template or raw prompt); code that drives ``lm`` directly holds ``lock`` (one model,
    one device). Diverse Beam Search needs it; the transformers backend offers it.
    """

    lm: Any
    tokenizer: Any
    lock: AbstractContextManager[Any]

    def encode(self, request: GenRequest) -> list[int]: ...


class MultiModelStep(Protocol):
    """Capabilities ``logits_hook`` and ``multi_model_step``: a local model and companions on its device.

    ``lm`` and ``tokenizer`` as in :class:`StepDecoder`; ``companion(model)`` loads a second causal LM
    (a model directory, or a preloaded model returned as is) beside ``lm``. Requests may then carry
    ``extra["logits_processors"]``. STEER needs it; the transformers backend offers it.
    """

    lm: Any
    tokenizer: Any

    def companion(self, model: Any) -> Any: ...


class Strategy:
    """Base class of generation strategies: ``requires`` lists the backend capabilities used.

    ``run(backend, prompt, n, seed)`` returns ``n`` rows (dicts with at least ``text``, plus the
    strategy's extras such as a verbalized probability or a judge score). The constructor's keyword
    arguments are the strategy's parameters (``--param NAME=VALUE``); a subclass documents each in a
    ``Parameters:`` block of its docstring, one ``    name: meaning`` line each, which
    :meth:`describe` reads.
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset({"chat"})
    deterministic: ClassVar[bool] = False  # True: the same n rows whatever the seed (retrying cannot help)

    @classmethod
    def describe(cls) -> list[Parameter]:
        """The parameters: the constructor's keyword arguments and defaults, with their documented meanings."""
        return describe_params(cls)

    def params(self) -> dict[str, Any]:
        """The strategy's parameters, recorded in every output row."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def run(self, backend: Backend, prompt: str, n: int, seed: int) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement run")


def check_capabilities(strategy: Strategy, backend: Backend) -> None:
    """Raise a UsageError naming what ``backend`` lacks for ``strategy``, before any request."""
    missing = sorted(strategy.requires - backend.capabilities)
    if missing:
        raise UsageError(
            f"strategy '{strategy.name}' needs {', '.join(missing)}, which backend '{backend.name}' "
            f"({backend.model}) does not offer; choose a backend that has it ({_offered_by(missing)}) "
            "or another strategy")


# What an OpenAI-compatible server may offer beyond chat (vLLM's server: all of them).
_SERVER_CAPABILITIES = frozenset({"n_samples", "seed", "top_logprobs", "min_p", "top_k", "structured_output"})


def _offered_by(missing: list[str]) -> str:
    """The backends that offer every capability in ``missing``, as a hint."""
    local = [name for name, factory in sorted(BACKENDS.items())
             if isinstance(caps := getattr(factory, "capabilities", None), frozenset) and set(missing) <= caps]
    options = [f"`backend` {name}" for name in local]
    if set(missing) <= _SERVER_CAPABILITIES:
        options.append("`backend` openai with a server that has it, such as vLLM's")
    return "e.g. " + " or ".join(options) if options else "no registered backend offers all of it"


STRATEGIES: Registry[type[Strategy]] = Registry("strategy", checks_params=True)
register_strategy = STRATEGIES.register  # the class decorator every strategy is registered with


def get_strategy(name: str, **params: Any) -> Strategy:
    """Build the registered strategy ``name`` with its parameters."""
    return STRATEGIES.build(name, **params)


BACKENDS: Registry[Callable[..., Backend]] = Registry("backend")


def register_backend(name: str, factory: Callable[..., Backend]) -> None:
    """Add a backend under ``name``; ``factory(model, **options)`` builds it (options: base_url, concurrency, ...)."""
    BACKENDS.register(factory, name)


def get_backend(name: str, model: str, **options: Any) -> Backend:
    """Build the registered backend ``name`` for ``model``."""
    return BACKENDS.build(name, model, **options)

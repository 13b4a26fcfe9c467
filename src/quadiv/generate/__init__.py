"""Generate many outputs per prompt with a diversity strategy, from any backend, resumably.

A **backend** (``openai``: any OpenAI-compatible HTTP server; ``transformers``; ``vllm``) turns
:class:`GenRequest` objects into :class:`Completion` objects and declares its ``capabilities``.
A **strategy** (``sampling``, and the prompt- and decoding-level methods) declares what it
``requires`` and turns one prompt into ``n`` rows. :func:`run_generation` runs a strategy over a
list of :class:`Prompt` with bounded concurrency, journaling every finished row beside the output
so that a stopped run resumes with ``resume=True`` (``quadiv generate ... --resume``).

- :func:`load_prompts`, :class:`Prompt`: prompts from a pool file or a .txt file.
- :func:`get_backend`, :func:`register_backend`, :class:`OpenAIBackend`.
- :func:`get_strategy`, :func:`register_strategy`, :class:`Strategy`, :class:`Sampling`;
  ``Strategy.describe()`` lists a strategy's :class:`Parameter` s (name, default, meaning).
- :func:`run_generation`, :class:`GenerationResult`, :class:`Journal`.
- :class:`NoveltyFilter`: wraps any strategy; rejects outputs too similar to a pool or earlier outputs.
"""
from quadiv._params import REQUIRED, Parameter

# The errors a generation run raises, re-exported so that callers catch them where they find the backends.
from quadiv.errors import BackendRequestError, GenerationCancelled, GenerationError

# Importing the backends and strategies packages registers what they define; the vllm and transformers
# modules import their packages only when a backend is built.
from quadiv.generate import backends, strategies  # noqa: F401
from quadiv.generate._base import (
    BACKENDS,
    STRATEGIES,
    Backend,
    Completion,
    GenRequest,
    Strategy,
    check_capabilities,
    get_backend,
    get_strategy,
    register_backend,
    register_strategy,
)
from quadiv.generate._journal import Journal, journal_path
from quadiv.generate._prompt_files import Prompt, chat_messages, load_prompts
from quadiv.generate._runner import GenerationResult, run_generation
from quadiv.generate.backends._make import make_backend
from quadiv.generate.backends._openai import OpenAIBackend
from quadiv.generate.backends._transformers import TransformersBackend
from quadiv.generate.backends._vllm import VLLMBackend
from quadiv.generate.strategies._aggregate import BestOfN, FusionOfN, SelfMoA
from quadiv.generate.strategies._diverse_beam import DiverseBeam
from quadiv.generate.strategies._divse import DivSE, IDivSE
from quadiv.generate.strategies._negative import NegativePrompting
from quadiv.generate.strategies._novelty import NoveltyFilter
from quadiv.generate.strategies._plansearch import PlanSearch
from quadiv.generate.strategies._sampling import Sampling
from quadiv.generate.strategies._steer import Steer
from quadiv.generate.strategies._verbalized import VerbalizedSampling

__all__ = [
    "BACKENDS", "REQUIRED", "STRATEGIES", "Backend", "BackendRequestError", "BestOfN", "Completion", "DivSE",
    "DiverseBeam", "FusionOfN", "GenRequest", "GenerationCancelled", "GenerationError", "GenerationResult", "IDivSE",
    "Journal", "NegativePrompting", "NoveltyFilter", "OpenAIBackend", "Parameter", "PlanSearch", "Prompt", "Sampling",
    "SelfMoA", "Steer", "Strategy", "TransformersBackend", "VLLMBackend", "VerbalizedSampling", "chat_messages",
    "check_capabilities", "get_backend", "get_strategy", "journal_path", "load_prompts", "make_backend",
    "register_backend", "register_strategy", "run_generation",
]

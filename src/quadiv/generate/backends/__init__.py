"""The generation backends: ``openai`` (any OpenAI-compatible server), ``transformers`` and ``vllm``.

Importing this package registers every backend; ``transformers`` and ``vllm`` import their engine
only when a backend is built, so this package imports without either installed.
"""
from quadiv.generate.backends import _openai, _transformers, _vllm  # noqa: F401

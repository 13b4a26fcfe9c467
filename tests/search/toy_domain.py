"""A toy text domain with a known landscape, and programmatic mutators (plain functions and fake LLMs).

A text is a list of words. Descriptors: the number of "red" and of "blue" words (0..9, one bin each).
Fitness: the share of words that are not "noise". Seeds hold at most one red and one blue word, so
far cells are reached only by accumulating mutations: search beats sampling.
"""
from __future__ import annotations

import random
import re

from quadiv.generate import Completion
from quadiv.search import Axis

WORDS = ("red", "blue", "plain", "noise")
AXES = (Axis.numeric("red", bins=10, low=0, high=10), Axis.numeric("blue", bins=10, low=0, high=10))
SEEDS = ["plain plain noise", "red plain noise noise", "blue plain plain", "plain noise red"]


def fitness(text: str) -> float:
    words = text.split()
    return 1.0 - words.count("noise") / len(words) if words else 0.0


def descriptors(text: str) -> tuple[float, float]:
    words = text.split()
    return float(min(words.count("red"), 9)), float(min(words.count("blue"), 9))


def random_edit(words: list[str], rng: random.Random) -> list[str]:
    words = list(words)
    op = rng.random()
    if op < 0.5 or not words:
        words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS))
    elif op < 0.75:
        words.pop(rng.randrange(len(words)))
    else:
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return words or ["plain"]


def mutator(seed: int = 0):
    """``parent -> child``: one random edit."""
    rng = random.Random(seed)
    return lambda parent: " ".join(random_edit(parent.split(), rng))


def seeded_mutator(parent: str, *, rng) -> str:
    """A pure mutator: one random edit drawn from the search's own generator (exact on resume)."""
    return " ".join(random_edit(parent.split(), random.Random(int(rng.integers(2**32)))))


def toward(words: list[str], axis: str, goal: int, rng: random.Random) -> list[str]:
    """One step of ``axis``' word count toward ``goal``, and sometimes a stray edit."""
    words = list(words)
    have = words.count(axis)
    if have < goal:
        words.insert(rng.randrange(len(words) + 1), axis)
    elif have > goal:
        words.remove(axis)
    if rng.random() < 0.3:
        words = random_edit(words, rng)
    return words or ["plain"]


def rewriter(seed: int = 0):
    """``(parent, target) -> child``: a step toward the target cell on each axis."""
    rng = random.Random(seed)

    def rewrite(parent: str, target: dict[str, str]) -> str:
        words = parent.split()
        for axis, label in target.items():
            words = toward(words, axis, int(float(label.split("-")[0])), rng)
        return " ".join(words)
    return rewrite


class FakeLLM:
    """A mutator backend that reads quadiv's LMX, rewrite and joint prompts and edits like a function would."""

    name, model = "fake", "toy"

    def __init__(self, capabilities=("chat", "n_samples")):
        self.capabilities = frozenset(capabilities)
        self.requests = []

    def generate(self, requests):
        self.requests += requests
        return [[Completion(self._reply(r.messages[-1]["content"], r.seed, k)) for k in range(r.n)] for r in requests]

    def _reply(self, prompt: str, seed: int, k: int) -> str:
        rng = random.Random(f"{prompt}\x00{seed}\x00{k}")
        examples = re.findall(r"^#\d+: (.*)$", prompt, re.MULTILINE)
        if examples:  # LMX: splice two examples, then edit
            a, b = rng.choice(examples).split(), rng.choice(examples).split()
            child = a[:rng.randint(0, len(a))] + b[rng.randint(0, len(b)):]
            return "#1: " + " ".join(random_edit(child, rng))
        if "Text:\n" not in prompt:
            return prompt  # a user's own template: echo it
        parent = prompt.split("Text:\n", 1)[1].split("\n\n", 1)[0].split()
        goals = re.findall(r"(red|blue)(?: becomes)?: (\d+)", prompt)
        for axis, goal in goals:
            parent = toward(parent, axis, int(goal), rng)
        return " ".join(parent)

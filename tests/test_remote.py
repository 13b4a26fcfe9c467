"""`quadiv._remote`: batches of a model's method here or as an engine's tasks, and the worker's held models."""
from __future__ import annotations

from quadiv import _remote
from quadiv.engine import LocalEngine


class Doubler:
    def __init__(self, name: str):
        self.name = name

    def double(self, batch: list[int]) -> list[int]:
        return [2 * x for x in batch]


def test_batches_in_groups_per_task_come_back_one_answer_per_batch_in_order() -> None:
    batches = [[i, i + 1] for i in range(7)]
    expected = [[2 * i, 2 * i + 2] for i in range(7)]
    assert list(_remote.method_map(None, Doubler("a"), "double", batches)) == expected

    class Engine(LocalEngine):  # an engine "elsewhere" with a GPU that runs its tasks here, noting them
        name, tasks = "elsewhere", []

        def gpus(self) -> int:
            return 1

        def map(self, fn, arguments, *, window=None, gpus=0):
            for args in arguments:
                Engine.tasks.append((len(args[2]), gpus))
                yield fn(*args)

    assert list(_remote.method_map(Engine(), Doubler("a"), "double", iter(batches), per_task=3)) == expected
    assert Engine.tasks == [(3, 0), (3, 0), (1, 0)]
    on_gpu = Doubler("b")
    on_gpu.uses_gpu = True
    assert list(_remote.method_map(Engine(), on_gpu, "double", batches[:1])) == expected[:1]
    assert Engine.tasks[-1] == (1, 1)


def test_a_worker_reuses_its_copy_of_an_equal_model_and_keeps_the_last_two(monkeypatch) -> None:
    monkeypatch.setattr(_remote, "_HELD", [])
    first = Doubler("m1")
    assert _remote.held(first) is first
    assert _remote.held(Doubler("m1")) is first  # an equal model (same class and name): the held copy
    second, third = Doubler("m2"), Doubler("m3")
    assert _remote.held(second) is second and _remote.held(third) is third
    assert _remote.held(Doubler("m1")) is not first  # only the last two are kept

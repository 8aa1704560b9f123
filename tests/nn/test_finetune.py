"""Approximation-aware fine-tuning on MNIST-1D: it wins back most of a lossy design's drop,
deterministically, and is cached; the original model is left alone."""

import copy

import pytest
import torch
from nn_helpers import loaded

from dcim.arith import MultiplierSpec
from dcim.nn import FineTuning, convert, finetune

TRUNCATED = MultiplierSpec(8, signed=False, kind="approx", options={"truncate": 10})


@pytest.fixture(scope="module")
def lossy(trained):
    task = loaded("mnist1d")
    x_train, _ = task.tensors("train")
    return task, trained("mnist1d"), convert(trained("mnist1d").model, TRUNCATED,
                                             calibration=x_train[:512])


def test_fine_tuning_recovers_most_of_a_lossy_designs_drop(lossy):
    task, result, model = lossy
    before = copy.deepcopy(model.state_dict())
    # Run, not read: the docs' example may have cached this very fine-tuning already.
    tuned = finetune(model, task, cache_results=False)
    drop = result.accuracy - tuned.accuracy_before
    assert drop > 0.1          # 95.4 % float, 72.6 % on the truncated design
    assert tuned.recovered > 0.6 * drop and not tuned.cached
    stored = finetune(model, task)
    assert stored.accuracy_after == tuned.accuracy_after
    assert not tuned.model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()
               if isinstance(v, torch.Tensor))
    again = finetune(model, task)
    assert again.cached and again.key == tuned.key == stored.key
    assert again.accuracy_after == tuned.accuracy_after
    assert all(torch.equal(a, b) for a, b in zip(again.model.state_dict().values(),
                                                  tuned.model.state_dict().values(),
                                                  strict=True) if isinstance(a, torch.Tensor))


def test_fine_tuning_is_deterministic_without_the_cache(lossy):
    task, _, model = lossy
    short = FineTuning(epochs=1, seed=3)
    one = finetune(model, task, training=short, cache_results=False)
    two = finetune(model, task, training=short, cache_results=False)
    assert one.accuracy_after == two.accuracy_after and not two.cached
    assert torch.equal(one.model[0].weight, two.model[0].weight)


def test_bad_arguments_are_named(lossy):
    task, result, model = lossy
    with pytest.raises(ValueError, match="model has no dcim.nn layer: convert it"):
        finetune(result.model, task)
    with pytest.raises(TypeError, match="task must be a Task or a task's name"):
        finetune(model, 3)
    with pytest.raises(ValueError, match="task must be one of digits, mnist5k, mnist1d"):
        finetune(model, "cifar10")
    with pytest.raises(TypeError, match="training must be a FineTuning"):
        finetune(model, task, training={"epochs": 1})
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        finetune("model", task)
    with pytest.raises(ValueError, match="epochs must be at least 1, not 0"):
        FineTuning(epochs=0)
    with pytest.raises(ValueError, match=r"learning_rate must be a number in \(0, 1\), not 2"):
        FineTuning(learning_rate=2)

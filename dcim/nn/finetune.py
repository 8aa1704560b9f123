"""Approximation-aware fine-tuning: a converted network trained on with its design in the loop.

The forward pass computes what the hardware computes (the layers' integer products through
the design); the backward pass takes the gradient of the exact product of the same quantized
operands, with straight-through rounding (see :mod:`dcim.nn.layers`). A few epochs let the
weights adapt to the design's errors, which is how published work turns a lossy
approximate multiplier into a usable one. Activation scales stay as calibrated.

Training is deterministic, as :func:`dcim.nn.tasks.trained_model`'s is, and its result is
cached (kind ``nn-model``), keyed by the converted model's full state (weights, scales,
designs), the task's data and the hyper-parameters.
"""

import copy
import dataclasses
import hashlib
import json
import time

import torch
from torch import nn

from ..checks import check_bool, check_int, short_repr
from ..eda import cache
from . import tasks
from .convert import converted_layers

__all__ = ["FINETUNE_VERSION", "FineTuned", "FineTuning", "finetune"]

FINETUNE_VERSION = "1"
"""Changes whenever the fine-tuning loop changes, so that older cached results are ignored."""


@dataclasses.dataclass(frozen=True)
class FineTuning:
    """The hyper-parameters of :func:`finetune`: Adam with a cosine decay to zero.

    Members
    -------
    epochs : int
    batch_size : int
    learning_rate : float
    seed : int
        Batch order (and any random state of the training).
    """

    epochs: int = 5
    batch_size: int = 100
    learning_rate: float = 3e-3
    seed: int = 0

    def __post_init__(self):
        check_int("epochs", self.epochs, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_int("seed", self.seed, low=0)
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
            raise ValueError(f"learning_rate must be a number in (0, 1), "
                             f"not {short_repr(rate)}")


@dataclasses.dataclass(frozen=True, eq=False)
class FineTuned:
    """What :func:`finetune` returns.

    Members
    -------
    model : torch.nn.Module
        The fine-tuned copy, in eval mode.
    task : Task
    training : FineTuning
    accuracy_before, accuracy_after : float
        Test accuracy of the converted model before and after fine-tuning.
    train_seconds : float
        How long the fine-tuning took (when it ran; for cached results, when it was run).
    cached : bool
    key : str
    """

    model: nn.Module
    task: tasks.Task
    training: FineTuning
    accuracy_before: float
    accuracy_after: float
    train_seconds: float
    cached: bool
    key: str

    @property
    def recovered(self):
        """Accuracy points won back by fine-tuning (after minus before)."""
        return self.accuracy_after - self.accuracy_before


def _state_digest(model):
    """A digest of the model's complete state: tensors and the layers' designs."""
    state = model.state_dict()
    digest = hashlib.sha256()
    for name, value in state.items():
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            digest.update(str((value.dtype, tuple(value.shape))).encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
    digest.update(repr(model).encode())
    return digest.hexdigest()


def _key(model, task, training):
    return cache.cache_key(kind="nn-finetune", task=task.name, task_seed=task.seed,
                           data=task.digest, state=_state_digest(model),
                           training=dataclasses.asdict(training), threads=tasks.TRAIN_THREADS,
                           torch=torch.__version__, code=FINETUNE_VERSION)


def _train(model, task, training):
    x, y = task.tensors("train")
    with tasks.deterministic(training.seed):
        return tasks.fit(model, x, y, epochs=training.epochs, batch_size=training.batch_size,
                         learning_rate=training.learning_rate, seed=training.seed)


def finetune(model, task, *, training=None, cache_results=True):
    """Fine-tune a converted ``model`` on ``task`` with its designs in the forward pass.

    Parameters
    ----------
    model : torch.nn.Module
        A model from :func:`dcim.nn.convert` (it is copied, not changed).
    task : Task or str
        A task from :func:`dcim.nn.tasks.load_task`, or its name.
    training : FineTuning or None
        Hyper-parameters (default ``FineTuning()``: 5 epochs, batch 100, Adam 3e-3).
    cache_results : bool
        Read and store the fine-tuned weights in the cache (kind ``nn-model``).

    Returns
    -------
    FineTuned

    Raises
    ------
    ValueError
        If ``model`` has no converted layer (there would be nothing approximate to adapt to).
    TypeError
        For a model, task or training of the wrong type.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {short_repr(model)}")
    if not converted_layers(model):
        raise ValueError("model has no dcim.nn layer: convert it to a design first "
                         "(dcim.nn.convert)")
    if isinstance(task, str):
        task = tasks.load_task(task)
    elif not isinstance(task, tasks.Task):
        raise TypeError(f"task must be a Task or a task's name, not {short_repr(task)}")
    training = FineTuning() if training is None else training
    if not isinstance(training, FineTuning):
        raise TypeError(f"training must be a FineTuning, not {short_repr(training)}")
    cache_results = check_bool("cache_results", cache_results)
    key = _key(model, task, training)
    folder = cache.entry("nn-model", key)
    found = tasks.load_weights(folder, copy.deepcopy(model)) if cache_results else None
    if found is not None:
        tuned, result = found
        return FineTuned(tuned, task, training, float(result["accuracy_before"]),
                         tasks.evaluate(tuned, task), float(result["train_seconds"]), True,
                         key)
    before = tasks.evaluate(copy.deepcopy(model), task)
    start = time.perf_counter()
    tuned = _train(copy.deepcopy(model), task, training)
    seconds = time.perf_counter() - start
    after = tasks.evaluate(tuned, task)
    if cache_results:
        tasks.store_weights(folder, tuned, {
            "task": task.name, "accuracy_before": before, "accuracy_after": after,
            "train_seconds": seconds, "training": dataclasses.asdict(training),
            "torch": torch.__version__, "code": FINETUNE_VERSION})
    return FineTuned(tuned, task, training, before, after, seconds, False, key)

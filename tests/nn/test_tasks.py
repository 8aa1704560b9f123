"""Tests of dcim.nn.tasks: the offline tasks, their CNNs, deterministic and cached training."""

import dataclasses
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from nn_helpers import loaded
from torch import nn

from dcim.eda import cache
from dcim.nn import tasks

SHAPES = {"digits": ((1, 8, 8), 1437, 360), "mnist5k": ((1, 28, 28), 4000, 1000),
          "mnist1d": ((1, 1, 40), 4000, 1000)}
CONVERTIBLE = (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear)


def quick(task):
    """``task`` with a one-epoch training: for the tests of the cache's mechanics."""
    return dataclasses.replace(task, training=dataclasses.replace(task.training, epochs=1))


def same_weights(one, other):
    one, other = one.state_dict(), other.state_dict()
    return one.keys() == other.keys() and all(torch.equal(one[k], other[k]) for k in one)


def test_the_registry_holds_the_three_tasks():
    assert list(tasks.TASKS) == ["digits", "mnist5k", "mnist1d"]
    for name, spec in tasks.TASKS.items():
        assert spec.name == name and spec.input_shape == SHAPES[name][0]
        assert spec.classes == 10 and 0.5 < spec.target_accuracy < 1
    with pytest.raises(TypeError):
        tasks.TASKS["cifar10"] = tasks.TASKS["digits"]


@pytest.mark.parametrize("name", ["digits", "mnist5k", "mnist1d"])
def test_each_task_loads_with_the_stated_shapes(name):
    task = loaded(name)
    shape, train, test = SHAPES[name]
    assert task.name == name and task.seed == 0 and task.input_shape == shape
    assert task.classes == 10 and task.description == tasks.TASKS[name].description
    assert task.x_train.shape == (train, *shape) and task.x_test.shape == (test, *shape)
    assert task.y_train.shape == (train,) and task.y_test.shape == (test,)
    assert task.x_train.dtype == np.float32 and task.y_train.dtype == np.int64
    for labels in (task.y_train, task.y_test):
        assert set(np.unique(labels)) == set(range(10))
    for array in (task.x_train, task.y_train, task.x_test, task.y_test):
        assert not array.flags.writeable
    with pytest.raises(dataclasses.FrozenInstanceError):
        task.name = "other"
    x, y = task.tensors("test")
    assert x.dtype == torch.float32 and y.dtype == torch.int64 and tuple(x.shape[1:]) == shape


@pytest.mark.parametrize("name", ["digits", "mnist5k"])
def test_image_splits_are_stratified(name):
    task = loaded(name)
    everything = np.bincount(np.concatenate([task.y_train, task.y_test]))
    share = len(task.y_test) / (len(task.y_train) + len(task.y_test))
    assert np.all(np.abs(np.bincount(task.y_test) - everything * share) <= 1)


def test_image_pixels_are_scaled_to_the_unit_interval():
    for name in ("digits", "mnist5k"):
        task = loaded(name)
        assert task.x_train.min() == 0 and task.x_train.max() == 1


def test_loading_is_deterministic_and_the_seed_draws_the_split():
    again = tasks.load_task("digits")
    assert again.digest == loaded("digits").digest
    assert np.array_equal(again.x_test, loaded("digits").x_test)
    other = tasks.load_task("digits", seed=1)
    assert other.digest != again.digest
    # The same images, split differently.
    assert np.array_equal(np.sort(np.concatenate([other.y_train, other.y_test])),
                          np.sort(np.concatenate([again.y_train, again.y_test])))


def test_mnist1d_seeds_data_sets_and_leaves_the_global_random_streams_alone():
    random.seed(7)
    np.random.seed(7)
    expected = random.random(), np.random.random()
    random.seed(7)
    np.random.seed(7)
    other = tasks.load_task("mnist1d", seed=1)
    assert (random.random(), np.random.random()) == expected
    assert other.digest != loaded("mnist1d").digest
    assert other.x_train.shape == (4000, 1, 1, 40)


@pytest.mark.parametrize("name", ["digits", "mnist5k", "mnist1d"])
def test_each_model_takes_the_task_and_has_only_convertible_layers(name):
    task = loaded(name)
    model = task.model()
    layers = [module for module in model.modules() if not list(module.children())]
    assert layers and all(isinstance(layer, CONVERTIBLE) for layer in layers)
    assert any(isinstance(layer, nn.Conv2d) for layer in layers)
    x, _ = task.tensors("test")
    assert model(x[:3]).shape == (3, task.classes)


def test_training_digits_is_deterministic_restores_torch_and_is_cached(monkeypatch, tmp_path):
    task = loaded("digits")
    threads = torch.get_num_threads()
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "first"))
    first = tasks.trained_model(task)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path / "second"))
    second = tasks.trained_model(task)
    assert not first.cached and not second.cached
    assert same_weights(first.model, second.model) and first.key == second.key
    assert first.accuracy == second.accuracy >= task.target_accuracy
    assert not first.model.training and first.train_seconds > 0

    hit = tasks.trained_model(task)
    assert hit.cached and hit.key == second.key and same_weights(hit.model, second.model)
    assert hit.accuracy == second.accuracy and hit.train_seconds == second.train_seconds
    assert not hit.model.training
    assert cache.cache_info("nn-model").entries == 1
    stored = json.loads((cache.entry("nn-model", hit.key) / "result.json").read_text())
    assert stored["task"] == "digits" and stored["accuracy"] == hit.accuracy


def test_a_name_trains_the_seed_0_split(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path))
    by_name = tasks.trained_model("digits")
    by_task = tasks.trained_model(loaded("digits"))
    assert not by_name.cached and by_task.cached and by_name.key == by_task.key


def test_the_key_follows_the_seed_the_data_and_the_training():
    task = loaded("digits")
    key = tasks._key(task, 0)
    assert tasks._key(task, 0) == key
    assert tasks._key(task, 1) != key
    assert tasks._key(tasks.load_task("digits", seed=1), 0) != key
    assert tasks._key(quick(task), 0) != key
    wider = dataclasses.replace(task, model=lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 10)))
    assert tasks._key(wider, 0) != key


def test_a_damaged_entry_is_trained_again(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path))
    task = quick(loaded("digits"))
    first = tasks.trained_model(task)
    weights = cache.entry("nn-model", first.key) / "model.pt"
    for damage in (b"not a checkpoint", weights.read_bytes()[:100], b""):
        weights.write_bytes(damage)
        again = tasks.trained_model(task)
        assert not again.cached and same_weights(again.model, first.model)
        assert tasks.trained_model(task).cached
    (cache.entry("nn-model", first.key) / "result.json").write_text("{")
    assert not tasks.trained_model(task).cached


def test_an_interrupted_training_leaves_no_entry(monkeypatch, tmp_path):
    monkeypatch.setenv("DCIM_CACHE_DIR", str(tmp_path))
    task = quick(loaded("digits"))
    save = torch.save

    def interrupted(state, path):
        save(state, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(tasks.torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tasks.trained_model(task)
    assert cache.cache_entries("nn-model") == []
    assert [path for path in (tmp_path / "nn-model").rglob("*") if path.is_file()] == []
    monkeypatch.setattr(tasks.torch, "save", save)
    assert not tasks.trained_model(task).cached
    assert tasks.trained_model(task).cached


@pytest.mark.parametrize("name", ["mnist5k", "mnist1d"])
def test_training_reaches_the_documented_accuracy(trained, name):
    result = trained(name)
    assert result.task.name == name and not result.cached
    assert result.accuracy >= tasks.TASKS[name].target_accuracy
    assert tasks.evaluate(result.model, result.task) == result.accuracy
    hit = tasks.trained_model(result.task)
    assert hit.cached and same_weights(hit.model, result.model)


def test_evaluate_measures_the_test_accuracy(trained):
    task = loaded("digits")
    torch.manual_seed(0)
    untrained = task.model()
    untrained.train()
    assert tasks.evaluate(untrained, task) < 0.5 and not untrained.training
    result = trained("mnist5k")
    assert tasks.evaluate(result.model, result.task, batch_size=7) == result.accuracy


def test_bad_input_is_refused_naming_the_value():
    with pytest.raises(ValueError, match="task must be one of digits, mnist5k, mnist1d, "
                                         "not 'cifar10'"):
        tasks.load_task("cifar10")
    with pytest.raises(ValueError, match="task must be one of digits, mnist5k, mnist1d, "
                                         "not 'MNIST1D'"):
        tasks.trained_model("MNIST1D")
    with pytest.raises(ValueError, match="not 3"):
        tasks.load_task(3)
    with pytest.raises(TypeError, match="task must be a Task or a task's name, not 3"):
        tasks.trained_model(3)
    with pytest.raises(ValueError, match="seed must be at least 0, not -1"):
        tasks.load_task("digits", seed=-1)
    with pytest.raises(TypeError, match="seed must be an int, not '1'"):
        tasks.trained_model(loaded("digits"), seed="1")
    with pytest.raises(ValueError, match="split must be 'train' or 'test', not 'val'"):
        loaded("digits").tensors("val")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, not 'digits'"):
        tasks.evaluate("digits", loaded("digits"))
    with pytest.raises(TypeError, match="task must be a Task from load_task, not 'digits'"):
        tasks.evaluate(nn.Linear(1, 1), "digits")
    with pytest.raises(ValueError, match="batch_size must be at least 1, not 0"):
        tasks.evaluate(nn.Linear(1, 1), loaded("digits"), batch_size=0)


def test_import_dcim_stays_free_of_torch_and_the_task_packages():
    code = ("import sys, dcim, dcim.flow, dcim.cli; "
            "print([m for m in ('torch', 'sklearn', 'mlxtend', 'mnist1d') if m in sys.modules])")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
    assert process.stdout.strip() == "[]"


def test_loading_digits_imports_neither_mlxtend_nor_mnist1d():
    code = ("import sys; from dcim.nn import tasks; tasks.load_task('digits'); "
            "print([m for m in ('mlxtend', 'mnist1d') if m in sys.modules])")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
    assert process.stdout.strip() == "[]"


def test_the_example_in_docs_nn_runs(trained, capsys):
    # After the session's mnist1d training, the example reads the cache.
    text = (Path(__file__).resolve().parents[2] / "docs" / "nn.md").read_text()
    section = re.search(r"\n## Tasks that need no download.*?(?=\n## |\Z)", text, re.S).group(0)
    examples = re.findall(r"```python\n(.*?)\n```", section, re.S)
    assert examples
    for example in examples:
        exec(compile(example, "docs/nn.md", "exec"), {})
    accuracy, seconds, cached = capsys.readouterr().out.splitlines()[0].split()
    assert float(accuracy) == trained("mnist1d").accuracy and cached == "True"

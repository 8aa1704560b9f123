"""A converted CNN's inference beside the float model's: the issue's measure of dcim.nn speed.

For each task's CNN (:mod:`dcim.nn.tasks`, trained or read from the cache), one batch of 256
test inputs through the float model and through ``convert(model, design)`` for every
multiplier kind at 8 bits, unsigned (sign-magnitude weights) and signed, on 2 threads,
without gradients. The first run of each (which builds the design's table and the layers'
per-weight tables or factors) is not counted; then both run alternately for about two
seconds and the best of each is kept (the machine is shared: slower runs are other programs'
time). Every converted model's output is checked against the layers' unfolded path (patches
times the prepared weights, as in training), bit for bit, before it is timed.
"""

import time

import torch

from dcim.arith import MULTIPLIER_KINDS, MultiplierSpec
from dcim.nn import convert, converted_layers, tasks
from dcim.nn.matmul import _plan

TASKS = ("mnist5k", "mnist1d")
BATCH = 256
THREADS = 2
BUDGET = 2.0       # seconds of repeats per row: the machine is shared, keep the best runs


def _best_pair(first, second, budget=BUDGET):
    """The best times of ``first`` and ``second``, run alternately so both meet the same load."""
    first(), second()
    times = ([], [])
    while sum(times[0]) + sum(times[1]) < budget and len(times[0]) < 300:
        for run, kept in zip((first, second), times, strict=True):
            started = time.perf_counter()
            run()
            kept.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def _method(spec):
    """How the layers compute through ``spec``: convolutions of looked-up operands, or
    per-weight tables."""
    plan = _plan(spec, not spec.signed)
    if plan.factors is None:
        return "tables"
    return f"{plan.factors[0].shape[1] + plan.factors[3]} conv"


def _unfolded(model, x):
    """``model(x)`` with every converted layer on its unfolded path (training mode without
    gradients takes it): the reference the timed path must equal."""
    layers = [layer for _, layer in converted_layers(model)]
    for layer in layers:
        layer.train()
    try:
        with torch.no_grad():
            return model(x)
    finally:
        for layer in layers:
            layer.eval()


def main():
    torch.set_num_threads(THREADS)
    print(f"{'task':<9}{'design':<18}{'method':>8}{'float ms':>10}{'dcim ms':>9}{'ratio':>7}")
    for name in TASKS:
        task = tasks.load_task(name)
        model = tasks.trained_model(task).model
        x = task.tensors("test")[0][:BATCH]
        for signed in (False, True):
            for kind in sorted(MULTIPLIER_KINDS):
                spec = MultiplierSpec(8, signed=signed, kind=kind)
                converted = convert(model, spec, calibration=x, check=False)
                with torch.no_grad():
                    if not torch.equal(converted(x), _unfolded(converted, x)):
                        raise AssertionError(f"{name} on {spec.name}: the layers' fast path "
                                             f"differs from the unfolded product")
                    floating, approx = _best_pair(lambda m=model, x=x: m(x),
                                                  lambda m=converted, x=x: m(x))
                print(f"{name:<9}{spec.name:<18}{_method(spec):>8}{floating * 1e3:>10.2f}"
                      f"{approx * 1e3:>9.2f}{approx / floating:>7.2f}", flush=True)


if __name__ == "__main__":
    main()

"""A converted CNN's inference beside the float model's: the issue's measure of dcim.nn speed.

For each task's CNN (:mod:`dcim.nn.tasks`, trained or read from the cache), one batch of 256
test inputs through the float model and through ``convert(model, design)`` for every
multiplier kind at 8 bits, unsigned (sign-magnitude weights) and signed, without gradients.
The first run of each (which builds the design's table and the layers' per-weight tables or
factors) is not counted; then both run alternately for about two seconds and the best of
each is kept (the machine is shared: slower runs are other programs' time). Twice: on 2
threads, wall-clock time (the issue's measure); and on 1 thread, the process's CPU time,
which the other programs on a shared machine disturb far less (a 2-thread run waits at every
operation for its slower thread, so there a ratio mostly counts operations). Every converted
model's output is checked against the layers' unfolded path (patches times the prepared
weights, as in training), bit for bit, before it is timed.
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


def _best_pair(first, second, clock, budget=BUDGET):
    """The best times of ``first`` and ``second`` on ``clock``, run alternately so both meet
    the same load."""
    first(), second()
    times = ([], [])
    while sum(times[0]) + sum(times[1]) < budget and len(times[0]) < 300:
        for run, kept in zip((first, second), times, strict=True):
            started = clock()
            run()
            kept.append(clock() - started)
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
    threads = torch.get_num_threads()
    print(f"{'':<37}{f'{THREADS} threads, wall':^26}{'1 thread, CPU time':^26}")
    columns = f"{'float ms':>10}{'dcim ms':>9}{'ratio':>7}"
    print(f"{'task':<9}{'design':<22}{'method':>6}{columns}{columns}")
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
                    row = f"{name:<9}{spec.name:<22}{_method(spec):>6}"
                    for count, clock in ((THREADS, time.perf_counter), (1, time.process_time)):
                        torch.set_num_threads(count)
                        floating, approx = _best_pair(lambda m=model, x=x: m(x),
                                                      lambda m=converted, x=x: m(x), clock)
                        row += (f"{floating * 1e3:>10.2f}{approx * 1e3:>9.2f}"
                                f"{approx / floating:>7.2f}")
                    torch.set_num_threads(threads)
                print(row, flush=True)


if __name__ == "__main__":
    main()

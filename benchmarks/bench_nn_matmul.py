"""What a bit-exact approx_matmul costs beside float32 ``x @ w`` of the same shape.

Per multiplier kind at 8 bits (unsigned operands, as after a ReLU; and signed), conv-like
im2col shapes: a 3x3 conv of 8 channels into 16 on 8x8 images (M = 256 * 64, K = 72,
N = 16) and a 3x3 conv of 64 channels into 64 on 4x4 images (M = 256 * 16, K = 576, N = 64),
batch 256. Both on 2 threads, the first run (which builds the design's table) not counted;
float and approx_matmul run alternately for about two seconds per row, the best of each kept
(the machine is shared: slower runs are other programs' time).
"""

import time

import numpy as np
import torch

from dcim.arith import MULTIPLIER_KINDS, MultiplierSpec
from dcim.nn import approx_matmul
from dcim.nn.matmul import _plan

SHAPES = ((256 * 64, 72, 16), (256 * 16, 576, 64))
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
    factors = _plan(spec, False).factors
    if factors is None:
        return "tables"
    return f"{factors[0].shape[1] + factors[3]} GEMM"


def main():
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    print(f"{'design':<22}{'method':>8}{'M x K x N':>20}{'float32 ms':>12}"
          f"{'approx ms':>11}{'ratio':>8}")
    for m, k, n in SHAPES:
        xf, wf = torch.randn(m, k), torch.randn(k, n)
        for signed in (False, True):
            for kind in sorted(MULTIPLIER_KINDS):
                spec = MultiplierSpec(8, signed=signed, kind=kind)
                low, high = spec.operand_range
                x = torch.from_numpy(rng.integers(low, high + 1, (m, k)))
                w = torch.from_numpy(rng.integers(low, high + 1, (k, n)))
                floating, approx = _best_pair(
                    lambda xf=xf, wf=wf: xf @ wf,
                    lambda x=x, w=w, spec=spec: approx_matmul(x, w, spec))
                print(f"{spec.name:<22}{_method(spec):>8}{f'{m} x {k} x {n}':>20}"
                      f"{floating * 1e3:>12.2f}{approx * 1e3:>11.1f}"
                      f"{approx / floating:>8.1f}", flush=True)


if __name__ == "__main__":
    main()

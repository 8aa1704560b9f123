"""What each 8-bit design costs each task's network: accuracy, drop, MRED, energy, saved.

Per task (digits, mnist5k, mnist1d), the trained CNN (seed 0) converted to each design, no
retraining: every multiplier kind at its default options, DRUM with k = 3..6, truncation of
4..10 low columns (alone), and each approximate 4:2 compressor in the low columns (the
``approx`` kind's default, ``xw``: the lowest ``width`` columns). Then, on MNIST-1D, each
design that lost at least a point is fine-tuned with its approximate product in the forward
pass (``dcim.nn.finetune``, 5 epochs) to show how much of the drop it wins back. Unsigned
designs: activations after a ReLU are unsigned, and weights run sign-magnitude. Drop and
energy saved are against the exact 8-bit unsigned multiplier. MRED is over the network's
own products (the layers' operand histograms, weighted by MACs), beside uniform operands.
Energy per inference is the sum over layers of MACs times the energy per multiply measured
by power from data on 2,048 operand pairs drawn from that layer (typical corner, each
design at its own minimum period); accumulation is not included.
"""

import time

from dcim.arith import COMPRESSORS, MULTIPLIER_KINDS, MultiplierSpec
from dcim.nn import FineTuning
from dcim.nn.report import compare_designs
from dcim.report import format_table

TASKS = ("digits", "mnist5k", "mnist1d")


def designs():
    """The designs of the table, in its order."""
    chosen = [MultiplierSpec(8, kind=kind) for kind in sorted(MULTIPLIER_KINDS)]
    chosen += [MultiplierSpec(8, kind="drum", options={"k": k}) for k in range(3, 7)
               if k != 6]       # k = 6 is DRUM's default, already in the kinds
    # Truncation alone: no approximate compressor beside it (columns = 0).
    chosen += [MultiplierSpec(8, kind="approx", options={"truncate": t, "columns": 0})
               for t in range(4, 11)]
    chosen += [MultiplierSpec(8, kind="approx", options={"compressor": name})
               for name, compressor in COMPRESSORS.items()
               if not compressor.is_exact and name != "acci1"]   # acci1 is the default
    return chosen


def rows(results):
    table = []
    for result in results:
        table.append([result.design, f"{100 * result.accuracy:.1f}",
                      f"{100 * result.drop:+.1f}", f"{100 * result.network_mred:.2f}",
                      f"{100 * result.uniform_metrics.mred:.2f}",
                      f"{result.energy_pj / 1e3:.2f}", f"{100 * result.energy_saved:+.1f}"])
    return table


HEADERS = ["design", "accuracy %", "drop (points)", "MRED net %", "MRED uniform %",
           "nJ/inference", "saved %"]


def main():
    for task in TASKS:
        start = time.perf_counter()
        results = compare_designs(task, designs(), samples=2048)
        first = results[0]
        print(f"\n### {task}: float {100 * first.float_accuracy:.1f} %, exact 8-bit "
              f"{100 * first.exact_accuracy:.1f} % ({time.perf_counter() - start:.0f} s)\n")
        print(format_table(HEADERS, rows(results)), flush=True)
        if task == "mnist1d":
            lossy = [result.spec for result in results if result.drop >= 0.01]
            _fine_tuning(task, lossy)


def _fine_tuning(task, lossy):
    start = time.perf_counter()
    tuned = compare_designs(task, lossy, energy=False, finetune=FineTuning())
    table = []
    for result in tuned:
        before = result.accuracy_before_finetune
        recovered = (result.accuracy - before) / (result.exact_accuracy - before)
        table.append([result.design, f"{100 * result.exact_accuracy:.1f}",
                      f"{100 * before:.1f}", f"{100 * result.accuracy:.1f}",
                      f"{100 * recovered:.0f}"])
    print(f"\n### {task}: fine-tuning the lossy designs, {FineTuning()} "
          f"({time.perf_counter() - start:.0f} s)\n")
    print(format_table(["design", "exact %", "before %", "after %", "drop recovered %"],
                       table), flush=True)


if __name__ == "__main__":
    main()

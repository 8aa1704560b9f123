"""What a cached PPA look-up costs now that results are keyed by the Verilog's content.

For each design: ``ppa()`` on an empty cache (the tools run), again in the same process (the
spec's Verilog is memoised, so only the key and the JSON are read), and in a fresh process
(the Verilog is generated again to compute the key, then the results are read).
"""

import os
import subprocess
import sys
import tempfile
import time

from dcim.arith import MultiplierSpec
from dcim.flow import ppa
from dcim.macro import MacroSpec

DESIGNS = {
    "mul8u_log": "MultiplierSpec(8, kind='log')",
    "mul8u_approx_acci1": "MultiplierSpec(8, kind='approx', options={'compressor': 'acci1'})",
    "macro r8c2 w4a4": "MacroSpec(rows=8, cols=2, weight_bits=4, act_bits=4)",
}

_FRESH = """
import time
started = time.monotonic()
from dcim.arith import MultiplierSpec
from dcim.flow import ppa
from dcim.macro import MacroSpec
imported = time.monotonic()
report = ppa({design})
assert report.synthesis.cached and report.timing.cached and report.power.cached
print(imported - started, time.monotonic() - imported)
"""


def main():
    rows = []
    with tempfile.TemporaryDirectory(prefix="dcim-bench-cache-") as folder:
        os.environ["DCIM_CACHE_DIR"] = folder
        namespace = {"MultiplierSpec": MultiplierSpec, "MacroSpec": MacroSpec}
        for label, expression in DESIGNS.items():
            design = eval(expression, namespace)  # noqa: S307 - our own table above
            started = time.monotonic()
            ppa(design)
            cold = time.monotonic() - started
            started = time.monotonic()
            again = ppa(design)
            warm = time.monotonic() - started
            assert again.synthesis.cached and again.power.cached
            completed = subprocess.run([sys.executable, "-c", _FRESH.format(design=expression)],
                                       capture_output=True, text=True, check=True,
                                       env=dict(os.environ))
            _, fresh = (float(value) for value in completed.stdout.split())
            rows.append((label, cold, warm, fresh))
    print(f"{'design':<22}{'empty cache s':>15}{'same process s':>16}{'new process s':>15}")
    for label, cold, warm, fresh in rows:
        print(f"{label:<22}{cold:>15.2f}{warm:>16.3f}{fresh:>15.2f}")


if __name__ == "__main__":
    main()

"""Time to write a macro's lint-clean Verilog with ``emit_verilog``, hierarchical and flat.

Each design runs in a new Python process: "cold" is the first ``emit_verilog`` there (after
the imports, which are timed apart), "warm" the same call again in that process. Verilator's
``--lint-only -Wall`` is timed on the hierarchical text for the smaller macros.
"""

import json
import subprocess
import sys

# (rows, cols, hierarchical, lint)
DESIGNS = [
    (16, 8, True, True),
    (16, 8, False, True),
    (64, 8, True, True),
    (256, 8, True, False),
    (256, 64, True, False),
]

_RUN = """
import json, time
started = time.monotonic()
from dcim.eda.verilog import emit_verilog
from dcim.macro import MacroSpec
from dcim.verify.hdl import lint_verilog
imported = time.monotonic()
spec = MacroSpec(rows={rows}, cols={cols}, mult="log")
times = []
for _ in range(2):
    begun = time.monotonic()
    text = emit_verilog(spec, hierarchical={hierarchical})
    times.append(time.monotonic() - begun)
lint = None
if {lint}:
    begun = time.monotonic()
    assert lint_verilog(text, top=spec.name) == ""
    lint = time.monotonic() - begun
modules = text.count("\\nmodule ") + text.startswith("module ")
print(json.dumps({{"import": imported - started, "cold": times[0], "warm": times[1],
                  "lint": lint, "bytes": len(text), "modules": modules, "name": spec.name}}))
"""


def main():
    print(f"{'macro (mult=log, 8-bit)':<34}{'kind':>7}{'modules':>8}{'MB':>7}{'import s':>9}"
          f"{'cold s':>8}{'warm s':>8}{'lint s':>8}")
    for rows, cols, hierarchical, lint in DESIGNS:
        completed = subprocess.run(
            [sys.executable, "-c", _RUN.format(rows=rows, cols=cols, hierarchical=hierarchical,
                                               lint=lint)],
            capture_output=True, text=True, check=True)
        result = json.loads(completed.stdout.splitlines()[-1])
        lint_time = "-" if result["lint"] is None else f"{result['lint']:.1f}"
        print(f"{result['name']:<34}{'hier' if hierarchical else 'flat':>7}"
              f"{result['modules']:>8}{result['bytes'] / 1e6:>7.2f}{result['import']:>9.1f}"
              f"{result['cold']:>8.1f}{result['warm']:>8.1f}{lint_time:>8}", flush=True)


if __name__ == "__main__":
    main()

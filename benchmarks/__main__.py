"""Run every benchmark, or those named: ``python -m benchmarks [verify macro ...]``."""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(names):
    folder = Path(__file__).parent
    available = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(folder)])
                       if m.name.startswith("bench_"))
    unknown = sorted(set(names) - set(available))
    if unknown:
        sys.exit(f"unknown benchmarks {unknown}; available: {', '.join(available)}")
    print(f"# dcim benchmarks, {time.strftime('%Y-%m-%d')}, command: python -m benchmarks "
          + " ".join(names))
    for name in names or available:
        print(f"\n## {name}\n", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])

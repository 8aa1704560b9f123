"""Every Python example in docs/nn.md runs, in order, in one namespace per section."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "nn.md"


def test_every_example_in_docs_nn_runs(trained, pdk_root, monkeypatch):
    monkeypatch.setenv("DCIM_PDK_ROOT", str(pdk_root))
    for name in ("digits", "mnist1d"):
        trained(name)      # the examples then read the session's cache
    sections = re.split(r"\n(?=## )", DOC.read_text())
    ran = 0
    for section in sections:
        namespace = {}
        for example in re.findall(r"```python\n(.*?)\n```", section, re.S):
            exec(compile(example, "docs/nn.md", "exec"), namespace)
            ran += 1
    assert ran >= 3

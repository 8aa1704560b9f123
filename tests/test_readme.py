"""The README's commands and Python examples are the project's contract with a new user: keep
them working."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_command(marker):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.*?)\n```", text, re.S)
    assert match, f"README.md lost its {marker} block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command():
    command = readme_command("test-command")
    assert "scripts/setup.sh" in command and "pytest" in command and "ruff" in command
    ci = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in ci and 'bash -c "$test_command"' in ci


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "dcim").exists() and "CI" not in os.environ,
                    reason="runs where scripts/setup.sh has made .venv (always in CI)")
def test_demo_command_runs_end_to_end(tmp_path):
    command = readme_command("demo-command").replace("--out demo-out", f"--out {tmp_path}")
    assert f"--out {tmp_path}" in command
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                            timeout=1200, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    sys.stdout.write(result.stdout[-3000:])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "0 mismatches" in result.stdout
    assert any(path.suffix == ".v" for path in tmp_path.iterdir())


def readme_python_blocks():
    return re.findall(r"```python\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


@pytest.mark.parametrize("index", range(len(readme_python_blocks())))
def test_python_example_runs(index):
    # A fresh interpreter per example: they register compressors, and must not rely on state
    # left by other tests. Warnings are errors, as in the test suite.
    code = readme_python_blocks()[index]
    result = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""


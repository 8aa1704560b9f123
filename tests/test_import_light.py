"""``import dcim`` stays light: only ``dcim.nn`` imports PyTorch."""

import subprocess
import sys


def test_core_packages_do_not_import_torch():
    code = ("import dcim, dcim.arith, dcim.flow, dcim.macro, sys; "
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_nn_imports_torch():
    code = "import dcim.nn, sys; assert 'torch' in sys.modules"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_dcim_and_dcim_spice_do_not_import_pyspice():
    # PySpice loads ngspice's library; only running a deck may do that.
    code = ("import dcim, dcim.spice, sys; "
            "assert not any(m.startswith('PySpice') for m in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr

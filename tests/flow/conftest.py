"""Shared set-up of the flow tests: the PDK root and small synthesized designs.

Tests use the technology files at ``../shared/pdk`` (or ``$DCIM_PDK_ROOT``); their results go
to the session's cache (``tests/conftest.py``), so tests that need the same small design
synthesize it once.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def pdk_root():
    configured = os.environ.get("DCIM_PDK_ROOT")
    root = Path(configured) if configured else ROOT.parent / "shared" / "pdk"
    if not (root / "nangate45").is_dir():
        pytest.fail(f"the flow tests need the technology files at {root} "
                    f"(set DCIM_PDK_ROOT to a folder like ../shared/pdk)")
    return root.resolve()


@pytest.fixture(scope="session")
def tiny_macro(pdk_root):
    """A 2x2 macro of 2-bit weights and activations, synthesized at the typical corner."""
    from dcim.flow import synthesize
    from dcim.macro import MacroSpec

    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    return spec, synthesize(spec, pdk_root=pdk_root)


@pytest.fixture(scope="session")
def mul4(pdk_root):
    """The 4-bit exact multiplier, synthesized at the typical corner."""
    from dcim.arith import MultiplierSpec
    from dcim.flow import synthesize

    return synthesize(MultiplierSpec(4), pdk_root=pdk_root)

"""Shared set-up of the flow tests: the PDK root and small synthesized designs.

Tests use the technology files of the ``pdk_root`` fixture (``tests/conftest.py``); results go
to the session's cache (``tests/conftest.py``), so tests that need the same small design
synthesize it once.
"""


import pytest


@pytest.fixture(scope="session")
def tiny_macro(pdk_root):
    """A 2x2 macro of 2-bit weights and activations, its array as flip-flops, synthesized at
    the typical corner."""
    from dcim.flow import synthesize
    from dcim.flow.design import macro_design
    from dcim.macro import MacroSpec

    spec = MacroSpec(rows=2, cols=2, weight_bits=2, act_bits=2)
    return spec, synthesize(macro_design(spec, storage="ff"), pdk_root=pdk_root)


@pytest.fixture(scope="session")
def mul4(pdk_root):
    """The 4-bit exact multiplier, synthesized at the typical corner."""
    from dcim.arith import MultiplierSpec
    from dcim.flow import synthesize

    return synthesize(MultiplierSpec(4), pdk_root=pdk_root)

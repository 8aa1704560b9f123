"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.
:func:`approx_matmul` is the bit-exact integer matrix product through a design;
:mod:`dcim.nn.energy` gives a layer's energy per MAC and error metrics on its own operands;
:mod:`dcim.nn.tasks` holds the offline tasks, their CNNs and cached training.
"""

from . import tasks
from .energy import (
    MacEnergy,
    MacroOperands,
    energy_per_mac,
    inference_energy,
    layer_macro_operands,
    layer_operand_sample,
    operand_metrics,
    uniform_metrics,
)
from .matmul import approx_matmul, product_table

__all__ = ["MacEnergy", "MacroOperands", "approx_matmul", "energy_per_mac", "inference_energy",
           "layer_macro_operands", "layer_operand_sample", "operand_metrics", "product_table",
           "tasks", "uniform_metrics"]

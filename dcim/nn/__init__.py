"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.

- :func:`approx_matmul` and :func:`prepare_weights`: the bit-exact integer matrix product
  through a design;
- :class:`DCiMLinear`, :class:`DCiMConv2d` and :func:`convert`: layers and whole models on a
  design, quantized, calibrated and checked against the design's gate netlist
  (:func:`check_design`); :func:`finetune` adapts a converted network to its design;
- :mod:`dcim.nn.energy`: a layer's energy per MAC and error metrics on its own operands;
- :mod:`dcim.nn.tasks`: the offline tasks, their CNNs and cached training.
"""

from . import tasks
from .check import DesignCheck, DesignCheckError, check_design
from .convert import convert, converted_layers
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
from .finetune import FineTuned, FineTuning, finetune
from .layers import DCiMConv2d, DCiMLayer, DCiMLinear, LayerQuantization, layer_quantization
from .matmul import PreparedWeights, approx_matmul, prepare_weights, product_table

__all__ = ["DCiMConv2d", "DCiMLayer", "DCiMLinear", "DesignCheck", "DesignCheckError",
           "FineTuned", "FineTuning", "LayerQuantization", "MacEnergy", "MacroOperands",
           "PreparedWeights", "approx_matmul", "check_design", "convert", "converted_layers",
           "energy_per_mac", "finetune", "inference_energy", "layer_macro_operands",
           "layer_operand_sample", "layer_quantization", "operand_metrics", "prepare_weights",
           "product_table", "tasks", "uniform_metrics"]

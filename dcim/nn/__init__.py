"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.

- :func:`approx_matmul` and :func:`prepare_weights`: the bit-exact integer matrix product
  through a design;
- :func:`analog_matmul` models an analog compute-in-memory array (:class:`AnalogCiM`:
  bit-plane partial sums, analog noise, a finite ADC);
- :func:`flip_weight_bits` injects stored-weight bit faults (:class:`WeightFaults`), at a
  rate of its own or a SPICE estimate's (:func:`bit_error_rate`), and
  :func:`accuracy_with_faults` measures a network's accuracy over seeded fault draws;
- :class:`DCiMLinear`, :class:`DCiMConv2d` and :func:`convert`: layers and whole models on a
  design, quantized, calibrated and checked against the design's gate netlist
  (:func:`check_design`); :func:`finetune` adapts a converted network to its design;
- :mod:`dcim.nn.energy`: a layer's energy per MAC and error metrics on its own operands;
  :mod:`dcim.nn.report`: what a design costs a task's network;
- :mod:`dcim.nn.tasks`: the offline tasks, their CNNs and cached training.
"""

from . import tasks
from .analog import AnalogCiM, analog_matmul
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
from .fault_accuracy import FaultAccuracy, accuracy_with_faults
from .faults import WeightFaults, bit_error_rate, flip_weight_bits
from .finetune import FineTuned, FineTuning, finetune
from .layers import DCiMConv2d, DCiMLayer, DCiMLinear, LayerQuantization, layer_quantization
from .matmul import PreparedWeights, approx_matmul, prepare_weights, product_table

__all__ = ["AnalogCiM", "DCiMConv2d", "DCiMLayer", "DCiMLinear", "DesignCheck", "DesignCheckError",
           "FaultAccuracy", "FineTuned", "FineTuning", "LayerQuantization", "MacEnergy",
           "MacroOperands", "PreparedWeights", "WeightFaults", "accuracy_with_faults",
           "analog_matmul", "approx_matmul", "bit_error_rate", "check_design", "convert",
           "converted_layers", "energy_per_mac", "finetune", "flip_weight_bits", "inference_energy",
           "layer_macro_operands", "layer_operand_sample", "layer_quantization", "operand_metrics",
           "prepare_weights", "product_table", "tasks", "uniform_metrics"]

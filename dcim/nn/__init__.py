"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.

- :func:`approx_matmul` and :func:`prepare_weights`: the bit-exact integer matrix product
  through a design;
- :class:`DCiMLinear`, :class:`DCiMConv2d` and :func:`convert`: layers and whole models on a
  design, quantized, calibrated and checked against the design's gate netlist
  (:func:`check_design`);
- :mod:`dcim.nn.tasks`: the offline tasks, their CNNs and cached training.
"""

from . import tasks
from .check import DesignCheck, DesignCheckError, check_design
from .convert import convert, converted_layers
from .layers import DCiMConv2d, DCiMLayer, DCiMLinear, LayerQuantization, layer_quantization
from .matmul import PreparedWeights, approx_matmul, prepare_weights, product_table

__all__ = ["DCiMConv2d", "DCiMLayer", "DCiMLinear", "DesignCheck", "DesignCheckError",
           "LayerQuantization", "PreparedWeights", "approx_matmul", "check_design", "convert",
           "converted_layers", "layer_quantization", "prepare_weights", "product_table",
           "tasks"]

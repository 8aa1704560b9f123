"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.
:func:`approx_matmul` is the bit-exact integer matrix product through a design;
:func:`analog_matmul` models an analog compute-in-memory array (:class:`AnalogCiM`: bit-plane
partial sums, analog noise, a finite ADC); :func:`flip_weight_bits` injects stored-weight bit
faults (:class:`WeightFaults`); :mod:`dcim.nn.tasks` holds the offline tasks, their CNNs and
cached training.
"""

from . import tasks
from .analog import AnalogCiM, analog_matmul
from .faults import WeightFaults, flip_weight_bits
from .matmul import approx_matmul, product_table

__all__ = ["AnalogCiM", "WeightFaults", "analog_matmul", "approx_matmul", "flip_weight_bits",
           "product_table", "tasks"]

"""Networks on the generated arithmetic. Needs the ``nn`` extra (PyTorch).

The only part of dcim that imports PyTorch: ``import dcim`` stays light.
:func:`approx_matmul` is the bit-exact integer matrix product through a design;
:mod:`dcim.nn.tasks` holds the offline tasks, their CNNs and cached training.
"""

from . import tasks
from .matmul import approx_matmul, product_table

__all__ = ["approx_matmul", "product_table", "tasks"]

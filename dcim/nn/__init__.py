"""Networks on the generated arithmetic: bit-exact integer matrix products through a design.

The only part of dcim that imports PyTorch (install the ``nn`` extra): ``import dcim`` stays
light. See :func:`approx_matmul`.
"""

from .matmul import approx_matmul, product_table

__all__ = ["approx_matmul", "product_table"]

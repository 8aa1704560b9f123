"""dcim.nn: networks on the generated arithmetic. Needs the ``nn`` extra (torch).

:mod:`dcim.nn.tasks` holds the offline tasks, their CNNs and cached training.
"""

from . import tasks

__all__ = ["tasks"]

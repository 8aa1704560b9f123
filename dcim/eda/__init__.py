"""What every part of dcim needs to work with the external EDA tools.

- :mod:`dcim.eda.tools` finds Yosys, OpenSTA, Icarus and Verilator, says how to install one
  that is missing, and runs them with their logs kept;
- :mod:`dcim.eda.verilog` writes lint-clean Verilog of Amaranth designs (:func:`emit_verilog`),
  a macro block by block;
- :mod:`dcim.eda.cache` keeps tool results by the content of their inputs;
- :mod:`dcim.eda.blocks` is the block protocol: a design lists its distinct sub-blocks, so
  each is written and synthesized once; components get their sub-blocks from the platform
  (:func:`block_component`), which for writers and the flow is a :class:`BlockPlatform`.

:mod:`dcim.macro`, :mod:`dcim.verify`, :mod:`dcim.flow` and :mod:`dcim.nn` all build on this
package, which imports none of them at module level.
"""

from .blocks import Block, BlockInstance, BlockPlatform, block_component, block_order, is_block
from .cache import CacheInfo, cache_dir, cache_info, clear_cache
from .tools import ToolError, ToolNotFoundError, find_tool, run_tool, tool_version
from .verilog import check_identifier, emit_verilog, is_verilog_identifier

__all__ = [
    "Block",
    "BlockInstance",
    "BlockPlatform",
    "CacheInfo",
    "ToolError",
    "ToolNotFoundError",
    "block_component",
    "block_order",
    "cache_dir",
    "cache_info",
    "check_identifier",
    "clear_cache",
    "emit_verilog",
    "find_tool",
    "is_block",
    "is_verilog_identifier",
    "run_tool",
    "tool_version",
]

"""Arithmetic generators: compressors, multipliers, their golden models and error metrics."""

from .compressor import COMPRESSORS, Compressor, CompressorComponent, register_compressor
from .multiplier import (
    MULTIPLIER_KINDS,
    MultiplierComponent,
    MultiplierKind,
    MultiplierSpec,
    register_multiplier_kind,
)
from .tree import CompressorAssignment, ReductionPlan, plan_reduction
from .tree_multiplier import ApproxOptions, ExactOptions

__all__ = [
    "COMPRESSORS",
    "MULTIPLIER_KINDS",
    "ApproxOptions",
    "Compressor",
    "CompressorAssignment",
    "CompressorComponent",
    "ExactOptions",
    "MultiplierComponent",
    "MultiplierKind",
    "MultiplierSpec",
    "ReductionPlan",
    "plan_reduction",
    "register_compressor",
    "register_multiplier_kind",
]

"""Arithmetic generators: compressors, multipliers, their golden models and error metrics."""

from . import drum, logarithmic  # noqa: F401  (registers the kinds)
from .compressor import COMPRESSORS, Compressor, CompressorComponent, register_compressor
from .metrics import ErrorMetrics, OperandDistribution, error_metrics
from .multiplier import (
    MULTIPLIER_KINDS,
    MultiplierComponent,
    MultiplierKind,
    MultiplierSpec,
    record_built_in_registries,
    register_multiplier_kind,
)
from .tree import CompressorAssignment, ReductionPlan, plan_reduction
from .tree_multiplier import ApproxOptions, ExactOptions, tree_plan

record_built_in_registries()

__all__ = [
    "COMPRESSORS",
    "MULTIPLIER_KINDS",
    "ApproxOptions",
    "Compressor",
    "CompressorAssignment",
    "CompressorComponent",
    "ErrorMetrics",
    "ExactOptions",
    "MultiplierComponent",
    "MultiplierKind",
    "MultiplierSpec",
    "OperandDistribution",
    "ReductionPlan",
    "error_metrics",
    "plan_reduction",
    "register_compressor",
    "register_multiplier_kind",
    "tree_plan",
]

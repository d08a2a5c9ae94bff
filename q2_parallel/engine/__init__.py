"""The parallel engine: each step of a Pipeline becomes a Parsl app.

``ParallelConfig`` starts Parsl for a ``with`` block; inside it,
``action.parallel(...)`` runs any action and returns stand-ins at once.
"""
from ._session import StepCounts
from .errors import ParallelError
from .parallel_config import ParallelConfig

__all__ = ['ParallelConfig', 'ParallelError', 'StepCounts']

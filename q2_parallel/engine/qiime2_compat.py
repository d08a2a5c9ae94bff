"""Stands in for ``qiime2.sdk.parallel_config`` of QIIME 2 2023.5 and later."""
from q2_parallel.config import get_config_from_file
from q2_parallel.engine.parallel_config import ParallelConfig

__all__ = ['ParallelConfig', 'get_config_from_file']

"""Stands in for ``qiime2.sdk.parallel_config`` of QIIME 2 2023.5 and later.

Its two names, ``ParallelConfig`` and ``get_config_from_file``, are
resolved on first use, so installing the module costs nothing.
"""


def __getattr__(name):
    if name == 'ParallelConfig':
        from q2_parallel.engine.parallel_config import ParallelConfig
        return ParallelConfig
    if name == 'get_config_from_file':
        from q2_parallel.config import get_config_from_file
        return get_config_from_file
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')

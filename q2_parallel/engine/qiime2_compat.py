"""Stands in for ``qiime2.sdk.parallel_config`` of QIIME 2 2023.5 and later.

Its names, ``ParallelConfig``, ``get_config_from_file`` and
``get_config_from_dict``, are resolved on first use, so installing the
module costs nothing.
"""

_SOURCES = {
    'ParallelConfig': 'q2_parallel.engine.parallel_config',
    'get_config_from_file': 'q2_parallel.config',
    'get_config_from_dict': 'q2_parallel.config',
}

__all__ = sorted(_SOURCES)


def __getattr__(name):
    if name not in _SOURCES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib

    return getattr(importlib.import_module(_SOURCES[name]), name)

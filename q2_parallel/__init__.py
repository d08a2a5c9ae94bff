"""q2-parallel: run the steps of QIIME 2 Pipelines in parallel with Parsl.

The public names are resolved lazily so that importing the package (which
q2cli does at start-up and QIIME 2 does when it loads plugins) stays cheap
and never imports Parsl.  On QIIME 2 2023.5 and later, which run Pipelines
in parallel themselves, ``ParallelConfig`` is the framework's own.
"""

__version__ = '2022.11.0'

_PUBLIC = {
    'ConfigError': 'q2_parallel.config',
    'get_config_from_dict': 'q2_parallel.config',
    'get_config_from_file': 'q2_parallel.config',
    'ParallelConfig': 'q2_parallel.engine',
    'ParallelError': 'q2_parallel.engine',
}

__all__ = ['__version__'] + sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    import importlib

    from q2_parallel.internals import qiime2_private
    if name == 'ParallelConfig' and qiime2_private.has_own_engine():
        value = qiime2_private.framework_parallel_config()
    else:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value

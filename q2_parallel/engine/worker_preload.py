"""Imported once in each HTEX worker pool, by the process its workers are
forked from (``internals.process_worker_pool``): QIIME 2, every installed
plugin (2022.11 registers types and transformers from all of them) and the
functions steps run are loaded there, so each worker has them before its
first step instead of loading them then."""


def _load():
    try:
        from qiime2.sdk import PluginManager

        from . import _apps  # noqa: F401 (the functions a step runs)

        PluginManager()
    except Exception:  # each worker loads them again, and a step says why
        pass


_load()

"""Works around QIIME 2 2024.5's HTEX provenance bug, in the benchmark's
2024.5 runs only: the comparison puts this folder on PYTHONPATH of those
runs, so the `qiime` process and every process it starts (HTEX's interchange
and workers inherit the variable) load it at start-up.

The bug: 2024.5's ``InternalDirectory`` (``qiime2/core/path.py``) registers
its rmtree finalizer also on a copy rebuilt from a pickle.  A worker that
drops its copy of a step's input deletes the main process's
``$TMPDIR/qiime2-provenance-*`` folder, and a Pipeline with 8 or more
partitions on HTEX fails ("cannot copy tree ... not a directory").
Upstream removed the finalizer in 2024.10.  Here a copy rebuilt from a
pickle (``__new__`` called with a path) gets no finalizer; a folder a
process makes itself is removed by that process, as before.

``qiime2.core.path`` is patched when something imports it, so processes
that never import QIIME 2 (the interchange) pay nothing.
"""
import importlib.abc
import importlib.machinery
import sys

MODULE = 'qiime2.core.path'


def _patch(module):
    directory = module.InternalDirectory
    make = directory.__new__

    def __new__(cls, *args, prefix=None):
        self = make(cls, *args, prefix=prefix)
        if args:  # a copy rebuilt from a pickle: the folder is not its own
            self._destructor.detach()
        return self

    directory.__new__ = staticmethod(__new__)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds ``qiime2.core.path`` as usual and patches it once loaded."""

    def find_spec(self, fullname, path, target=None):
        if fullname != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchOnImport())

"""Every private part of a dependency that q2-parallel relies on, one module
per dependency, each exporting named functions that the concern modules
(config, engine, cli) call instead of reaching into the dependency:

- ``qiime2_private``: the QIIME 2 2022.11 framework (actions, the cache);
- ``q2cli_private``: q2cli 2022.11 (its commands and their cache);
- ``parsl_private``: Parsl 2024.10.07 to 2026.10.26 (the DataFlowKernel,
  executors' blocks, errors), and the standard library's thread pool;
  ``process_worker_pool`` starts Parsl's HTEX worker pool with a fixed
  address probe where the installed Parsl needs it;
- ``multiprocessing_private``: the standard library's fork server protocol
  and finalizer registry; ``forked_main`` is the command that has the
  run's fork server fork HTEX's interchange and local worker pools.

Each function's docstring names the internal it touches and why.
``tests/test_internals.py`` checks every one of them against the installed
releases, so a release that changes one fails there, by name.
"""

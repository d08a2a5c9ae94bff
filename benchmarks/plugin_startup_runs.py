"""One measurement of the plugin start-up benchmark, in a fresh process of
the plugins-2022.11 venv (see ``plugin_startup.py``, which starts these).

    python plugin_startup_runs.py load
    python plugin_startup_runs.py pipeline SEQUENCES.fna [ACTION...]

``load`` times ``qiime2.sdk.PluginManager()``: what the main process pays
once, and each HTEX worker before its first step today.  ``pipeline`` runs
``phylogeny align-to-tree-mafft-fasttree`` on the sequences, serially or,
given actions (``mafft``, ``fasttree``), with those mapped to a 2-worker
local HTEX; it exports the outputs to ./outputs (the report: ./run.*).
Each prints one line of JSON; all times are ``time.time()``, the clock
worker steps report on.
"""
import json
import os
import sys
import time
from pathlib import Path

# Written by the `mafft` wrapper plugin_startup.py puts first on PATH: one
# line per start of the program, with its time.time().
PROGRAM_LOG = 'Q2P_BENCH_PROGRAM_LOG'


def load():
    import qiime2.sdk

    before = time.time()
    qiime2.sdk.PluginManager()
    return {'load': time.time() - before}


def pipeline(sequences_path, htex_actions):
    from qiime2 import Artifact
    from qiime2.plugins import phylogeny  # loads every plugin, as users do

    sequences = Artifact.import_data('FeatureData[Sequence]', sequences_path)
    action = phylogeny.pipelines.align_to_tree_mafft_fasttree
    facts = {}
    entered = time.time()
    if htex_actions:
        from q2_parallel import ParallelConfig
        from tests.engine_support import mixed_config

        report = Path('run.html').resolve()
        with ParallelConfig(mixed_config(workers=2),
                            dict.fromkeys(htex_actions, 'htex'),
                            report=report):
            results = action.parallel(sequences)._result()
            facts['results'] = time.time() - entered
        facts['first_htex_step'] = _first_htex_start(
            report.with_suffix('.json')) - entered
    else:
        results = action(sequences)
    facts['wall'] = time.time() - entered
    facts['program_started'] = _first_program_start() - entered
    for name, artifact in zip(results._fields, results):
        artifact.export_data(str(Path('outputs') / name))
    return facts


def _first_htex_start(run_json):
    """When the first step on the HTEX started, as the run report says."""
    facts = json.loads(Path(run_json).read_text())
    started = [step['started'] for step in facts['steps']
               if step['executor'] == 'htex' and step['started'] is not None]
    return facts['started'] + min(started)


def _first_program_start():
    with open(os.environ[PROGRAM_LOG]) as fh:
        return min(float(line) for line in fh)


def main(argv):
    if argv[0] == 'load':
        facts = load()
    else:
        facts = pipeline(argv[1], argv[2:])
    print(json.dumps(facts))


if __name__ == '__main__':
    main(sys.argv[1:])

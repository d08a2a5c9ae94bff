"""What the engine tests share: configs, inputs and resource counts."""
import gc
import glob
import json
import os
import threading

import psutil
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider
from qiime2 import Artifact


def thread_config(threads=4):
    return Config(executors=[ThreadPoolExecutor(label='default',
                                                max_threads=threads)],
                  strategy='none')


def mixed_config(workers=2, retries=0):
    """A thread pool for unmapped actions and local worker processes."""
    return Config(
        executors=[
            ThreadPoolExecutor(label='default', max_threads=2),
            HighThroughputExecutor(
                label='htex', address='127.0.0.1', encrypted=True,
                max_workers_per_node=workers, heartbeat_period=1,
                provider=LocalProvider(init_blocks=1, max_blocks=1))],
        strategy='none', retries=retries)


def int_list(values):
    return Artifact.import_data('IntList', list(values))


def step_notes(record_dir):
    """The notes steps left in ``record_dir`` (see the test plugin)."""
    notes = []
    for path in glob.glob(os.path.join(record_dir, '*.json')):
        with open(path) as fh:
            notes.append(json.load(fh))
    return notes


def resources():
    """Threads, open descriptors and child processes of this process (after
    a garbage collection, so that objects other tests dropped are gone)."""
    gc.collect()
    me = psutil.Process()
    return {'threads': threading.active_count(),
            'fds': me.num_fds(),
            'children': len(me.children(recursive=True))}


def provenance_actions(result):
    """Every action recorded in ``result``'s provenance: a sorted list of
    (plugin, action, input names, parameters), UUIDs left out."""
    import yaml

    class Loader(yaml.SafeLoader):
        """Reads QIIME 2's tags (!ref, !cite, ...) as their plain value."""

    Loader.add_multi_constructor(
        '!', lambda loader, tag, node: loader.construct_scalar(node))
    recorded = []
    root = str(result._archiver.provenance_dir)
    for path in glob.glob(os.path.join(root, '**', 'action.yaml'),
                          recursive=True):
        with open(path) as fh:
            action = yaml.load(fh, Loader=Loader)['action']
        if action['type'] == 'import':
            continue
        inputs = sorted(next(iter(i)) for i in action.get('inputs', []))
        parameters = sorted(
            (name, repr(value)) for p in action.get('parameters', [])
            for name, value in p.items())
        recorded.append((action['plugin'], action['action'],
                         tuple(inputs), tuple(parameters)))
    return sorted(recorded)

"""The demo Pipelines give the serial run's output through the engine, with
their apply steps in worker processes."""
import os
import tempfile
import unittest

import pytest
from qiime2 import Artifact
from qiime2.plugins import parallel as demo

from q2_parallel import ParallelConfig
from q2_parallel.demo import simulate_reads, write_reads
from tests.engine_support import mixed_config, provenance_actions

PIPELINES = {
    'count_kmers': {'partitions': 3},
    'dereplicate': {'partitions': 3, 'min_abundance': 2},
    'gc_content': {'partitions': 3},
}


def exported(result):
    """Every output's exported files, as bytes."""
    files = {}
    for name, artifact in zip(result._fields, result):
        with tempfile.TemporaryDirectory() as out:
            artifact.export_data(out)
            for file in sorted(os.listdir(out)):
                with open(os.path.join(out, file), 'rb') as fh:
                    files[f'{name}/{file}'] = fh.read()
    return files


@pytest.mark.slow  # runs the demo Pipelines serially, on threads and HTEX
class DemoThroughEngineTests(unittest.TestCase):
    def test_serial_and_parallel_outputs_are_identical(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'seqs.fna')
            write_reads(simulate_reads(samples=4, reads_per_sample=60), path)
            seqs = Artifact.import_data('SampleSequences', path)
        mapping = {'step_count_kmers': 'htex', 'step_dereplicate': 'htex',
                   'step_gc_content': 'htex'}
        serial = {name: getattr(demo.pipelines, name)(seqs, **params)
                  for name, params in PIPELINES.items()}
        with ParallelConfig(mixed_config(), mapping):
            futures = {name: getattr(demo.pipelines, name).parallel(
                seqs, **params) for name, params in PIPELINES.items()}
            parallel = {name: future._result()
                        for name, future in futures.items()}
        for name in PIPELINES:
            with self.subTest(pipeline=name):
                self.assertEqual(exported(parallel[name]),
                                 exported(serial[name]))
                for ours, theirs in zip(parallel[name], serial[name]):
                    self.assertEqual(ours.type, theirs.type)
                    self.assertEqual(provenance_actions(ours),
                                     provenance_actions(theirs))

"""Round trips through the real `qiime` command: import a FASTA of reads,
run each demo Pipeline, export plain files a user can open."""
import tempfile
import unittest
from pathlib import Path

import pytest
from qiime2 import Artifact
from qiime2.plugins import parallel

from q2_parallel.demo import simulate_reads, write_reads
from tests.helpers import isolated_env, run_qiime

# Slow: runs the real qiime in subprocesses.
pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / 'data' / 'demo'


class QiimeRoundTripTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.TemporaryDirectory(prefix='q2p-demo-cli-')
        cls.dir = Path(cls.temp.name)
        cls.env = isolated_env(cls.dir / 'home')
        reads = simulate_reads(samples=4, reads_per_sample=20, seed=7)
        cls.fasta = cls.dir / 'seqs.fna'
        write_reads(reads, cls.fasta)
        cls.sequences = Artifact.import_data('SampleSequences', reads)

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def qiime(self, *args):
        result = run_qiime(*map(str, args), env=self.env, cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_import_run_export(self):
        self.qiime('tools', 'import', '--type', 'SampleSequences',
                   '--input-path', self.fasta, '--output-path', 'seqs.qza')
        runs = [
            ('count-kmers', ['--p-k', '3'], {'kmer-counts': 'counts.tsv'},
             parallel.methods.step_count_kmers(self.sequences, k=3)),
            ('dereplicate', ['--p-min-abundance', '2'],
             {'table': 'counts.tsv',
              'representative-sequences': 'dna-sequences.fasta'},
             parallel.methods.step_dereplicate(self.sequences,
                                               min_abundance=2)),
            ('gc-content', [], {'gc-counts': 'counts.tsv'},
             parallel.methods.step_gc_content(self.sequences)),
        ]
        for pipeline, parameters, outputs, expected in runs:
            with self.subTest(pipeline):
                self.qiime('parallel', pipeline, '--i-sequences', 'seqs.qza',
                           '--p-partitions', '3', *parameters,
                           '--output-dir', pipeline)
                for (output, filename), artifact in zip(outputs.items(),
                                                        expected):
                    exported = self.dir / f'{pipeline}-{output}'
                    self.qiime('tools', 'export', '--input-path',
                               f'{pipeline}/{output.replace("-", "_")}.qza',
                               '--output-path', exported)
                    artifact.export_data(str(exported / 'expected'))
                    self.assertEqual(
                        (exported / filename).read_text(),
                        (exported / 'expected' / filename).read_text())

    def test_import_names_the_file_and_line_of_a_bad_record(self):
        result = run_qiime('tools', 'import', '--type', 'SampleSequences',
                           '--input-path', str(DATA / 'truncated.fna'),
                           '--output-path', str(self.dir / 'bad.qza'),
                           env=self.env)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(str(DATA / 'truncated.fna'), result.stderr)
        self.assertIn("line 3: the record 'gut.1_2' has no sequence",
                      result.stderr)
        self.assertFalse((self.dir / 'bad.qza').exists())

    def test_help_shows_a_worked_example(self):
        result = self.qiime('parallel', 'dereplicate', '--help')
        self.assertIn('qiime tools import', result.stdout)
        self.assertIn('qiime parallel dereplicate', result.stdout)
        self.assertIn('--p-min-abundance 2', result.stdout)

"""The demo split, apply and combine steps, and the Pipelines that chain
them, through the Artifact API: a Pipeline's result does not depend on how
many parts its input was split into."""
import filecmp
import hashlib
import tempfile
import unittest
from collections import Counter
from pathlib import Path

import pytest
from qiime2 import Artifact
from qiime2.plugin.testing import TestPluginBase
from qiime2.plugins import parallel

from q2_parallel.demo import (DemoError, FeatureCounts, FeatureSequences,
                              Read, SampleReads, simulate_reads)
from q2_parallel.demo._split import step_split_sequences

PIPELINES = [
    # (pipeline, the apply step it splits, its parameters)
    ('count_kmers', 'step_count_kmers', {'k': 5}),
    ('dereplicate', 'step_dereplicate', {'min_abundance': 2}),
    ('gc_content', 'step_gc_content', {'bin_width': 10}),
]


def reads_of(*records):
    return SampleReads(Read.from_id(i, s) for i, s in records)


def import_reads(reads):
    return Artifact.import_data('SampleSequences', reads)


class ExampleDataTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reads = simulate_reads()
        cls.sequences = import_reads(cls.reads)
        cls.temp = tempfile.TemporaryDirectory(prefix='q2p-demo-')

    @classmethod
    def tearDownClass(cls):
        cls.temp.cleanup()

    def exported(self, artifact):
        """A new directory the artifact's data were exported to."""
        path = Path(tempfile.mkdtemp(dir=self.temp.name)) / 'data'
        artifact.export_data(str(path))
        return path

    def assert_same_files(self, left, right):
        left, right = self.exported(left), self.exported(right)
        names = sorted(p.name for p in left.iterdir())
        self.assertEqual(names, sorted(p.name for p in right.iterdir()))
        match, mismatch, errors = filecmp.cmpfiles(left, right, names,
                                                   shallow=False)
        self.assertEqual((mismatch, errors), ([], []))


class SplitTests(ExampleDataTestCase):
    def parts(self, partitions):
        return [step_split_sequences(self.reads, part, partitions)
                for part in range(partitions)]

    def test_parts_hold_every_read_once_and_copies_together(self):
        for partitions in (1, 2, 7, 64):
            with self.subTest(partitions=partitions):
                parts = self.parts(partitions)
                self.assertTrue(all(parts))                  # none empty
                self.assertEqual(sorted(r.id for p in parts for r in p),
                                 sorted(r.id for r in self.reads))
                homes = {}
                for index, part in enumerate(parts):
                    for read in part:
                        self.assertEqual(
                            homes.setdefault(read.sequence, index), index)

    def test_parts_are_balanced(self):
        largest_group = max(Counter(r.sequence for r in self.reads).values())
        for partitions in (2, 7):
            sizes = [len(p) for p in self.parts(partitions)]
            self.assertLessEqual(max(sizes) - min(sizes), largest_group)

    def test_split_is_deterministic_and_keeps_file_order(self):
        again = simulate_reads()
        self.assertEqual(self.parts(7), [step_split_sequences(again, i, 7)
                                         for i in range(7)])
        order = {read.id: n for n, read in enumerate(self.reads)}
        for part in self.parts(7):
            self.assertEqual([r.id for r in part],
                             sorted((r.id for r in part), key=order.get))

    def test_impossible_splits_are_refused_with_a_reason(self):
        split = parallel.methods.step_split_sequences
        with self.assertRaisesRegex(DemoError, 'numbered 0 to 2'):
            split(self.sequences, part=3, partitions=3)
        two = import_reads(reads_of(('a_1', 'ACGT'), ('b_2', 'ACGT'),
                                    ('a_3', 'GGCC')))
        with self.assertRaisesRegex(DemoError, '2 distinct sequences'):
            split(two, part=0, partitions=3)


class ApplyStepTests(unittest.TestCase):
    def setUp(self):
        self.sequences = import_reads(reads_of(
            ('gut_1', 'ACGTA'), ('gut_2', 'GGCCNACGT'), ('palm_3', 'ACGTA'),
            ('palm_4', 'AATT'), ('gut_5', 'ACGTA')))

    def test_count_kmers_skips_ambiguous_letters(self):
        counts, = parallel.methods.step_count_kmers(self.sequences, k=3)
        self.assertEqual(counts.view(FeatureCounts), FeatureCounts({
            'gut': {'ACG': 3, 'CGT': 3, 'GTA': 2, 'GGC': 1, 'GCC': 1},
            'palm': {'ACG': 1, 'CGT': 1, 'GTA': 1, 'AAT': 1, 'ATT': 1}}))

    def test_dereplicate_counts_copies_and_filters_rare_sequences(self):
        table, sequences = parallel.methods.step_dereplicate(
            self.sequences, min_abundance=2)
        md5 = hashlib.md5(b'ACGTA').hexdigest()
        self.assertEqual(table.view(FeatureCounts),
                         FeatureCounts({'gut': {md5: 2}, 'palm': {md5: 1}}))
        self.assertEqual(sequences.view(FeatureSequences), {md5: 'ACGTA'})
        table, sequences = parallel.methods.step_dereplicate(self.sequences)
        self.assertEqual(len(sequences.view(FeatureSequences)), 3)

    def test_gc_content_bins(self):
        counts, = parallel.methods.step_gc_content(self.sequences,
                                                   bin_width=25)
        # ACGTA 40 %, GGCCNACGT 66 %, AATT 0 %
        self.assertEqual(counts.view(FeatureCounts), FeatureCounts({
            'gut': {'gc025-050': 2, 'gc050-075': 1},
            'palm': {'gc025-050': 1, 'gc000-025': 1}}))


class PipelineTests(ExampleDataTestCase):
    @pytest.mark.slow  # many partition counts
    def test_result_does_not_depend_on_partitions(self):
        for pipeline_id, step_id, parameters in PIPELINES:
            pipeline = getattr(parallel.pipelines, pipeline_id)
            step = getattr(parallel.methods, step_id)
            whole = step(self.sequences, **parameters)
            for partitions in (1, 2, 7):
                with self.subTest(pipeline_id, partitions=partitions):
                    results = pipeline(self.sequences, partitions=partitions,
                                       **parameters)
                    self.assertEqual(len(results), len(whole))
                    for result, expected in zip(results, whole):
                        self.assertEqual(result.type, expected.type)
                        self.assert_same_files(result, expected)

    @pytest.mark.slow  # 129 steps
    def test_sixty_four_partitions(self):
        counts, = parallel.pipelines.count_kmers(self.sequences,
                                                 partitions=64)
        whole, = parallel.methods.step_count_kmers(self.sequences)
        self.assertEqual(counts.view(FeatureCounts),
                         whole.view(FeatureCounts))
        self.assertEqual(len(counts.view(FeatureCounts).samples), 8)

    def test_more_partitions_than_distinct_sequences(self):
        three = import_reads(reads_of(('a_1', 'ACGT'), ('b_2', 'ACGT'),
                                      ('a_3', 'GGCC'), ('b_4', 'TTAA')))
        table, sequences = parallel.pipelines.dereplicate(three,
                                                          partitions=10)
        self.assertEqual(len(sequences.view(FeatureSequences)), 3)
        self.assertEqual(FeatureCounts.sum([table.view(FeatureCounts)]),
                         parallel.methods.step_dereplicate(three)[0]
                         .view(FeatureCounts))


class ParallelRunTests(ExampleDataTestCase):
    def test_parallel_results_equal_serial_results(self):
        from parsl.config import Config
        from parsl.executors.threads import ThreadPoolExecutor

        from q2_parallel import ParallelConfig

        config = Config(executors=[ThreadPoolExecutor(label='default',
                                                      max_threads=2)],
                        strategy='none')
        for pipeline_id, _, parameters in PIPELINES:
            pipeline = getattr(parallel.pipelines, pipeline_id)
            with self.subTest(pipeline_id):
                with ParallelConfig(parallel_config=config):
                    future = pipeline.parallel(self.sequences, partitions=3,
                                               **parameters)
                    results = future._result()
                serial = pipeline(self.sequences, partitions=3, **parameters)
                for result, expected in zip(results, serial):
                    self.assert_same_files(result, expected)


class UsageExampleTests(TestPluginBase):
    package = 'q2_parallel'

    def test_examples(self):
        self.execute_examples()

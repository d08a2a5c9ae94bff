"""The demo formats accept ordinary files and reject malformed ones, naming
the file and the line, when a user imports them."""
import tempfile
import unittest
from pathlib import Path

import pandas as pd
from qiime2 import Artifact
from qiime2.plugin import ValidationError
from qiime2.plugin.testing import TestPluginBase

from q2_parallel.demo import (
    CountTable, CountTableDirectoryFormat, CountTableFormat, FeatureCounts,
    FeatureSequences, GCContent, Kmer, RepresentativeSequences,
    RepresentativeSequencesDirectoryFormat, RepresentativeSequencesFormat,
    SampleReads, SampleSequences, SampleSequencesDirectoryFormat,
    SampleSequencesFormat, UniqueSequence)

DATA = Path(__file__).parent / 'data' / 'demo'


class ImportTests(unittest.TestCase):
    def assert_import_fails(self, semantic_type, filename, *expected):
        path = DATA / filename
        with self.assertRaises(ValidationError) as raised:
            Artifact.import_data(semantic_type, str(path))
        message = str(raised.exception)
        for text in (str(path), *expected):
            self.assertIn(text, message)

    def test_sample_sequences_import(self):
        reads = Artifact.import_data(
            'SampleSequences', str(DATA / 'seqs.fna')).view(SampleReads)
        self.assertEqual([r.id for r in reads],
                         ['gut.1_1', 'tongue.1_2', 'gut.1_3', 'left_palm.2_4'])
        self.assertEqual([r.sample for r in reads],
                         ['gut.1', 'tongue.1', 'gut.1', 'left_palm.2'])
        self.assertEqual(len(reads[0].sequence), 112)    # two lines joined
        self.assertTrue(reads[1].sequence.startswith('TACGTAGGG'))  # upper

    def test_sample_sequences_rejects_malformed_files(self):
        cases = [
            ('bad-header-no-sample.fna', 'line 3:', "'read2'",
             'does not name its sample'),
            ('bad-header-space.fna', 'line 3:', 'has no id'),
            ('no-header.fna', 'line 1:', "expected a FASTA header"),
            ('bad-characters.fna', 'line 5, column 4:', "'U'",
             'not an IUPAC DNA letter'),
            ('bad-gap.fna', 'line 2, column 5:', "'-'"),
            ('empty.fna', 'line 1:', 'empty'),
            ('truncated.fna', 'line 3:', "'gut.1_2' has no sequence",
             'truncated'),
            ('missing-sequence.fna', 'line 1:', "'gut.1_1' has no sequence"),
            ('duplicate-id.fna', 'line 3:', 'already used on line 1'),
            ('blank-line.fna', 'line 3:', 'blank line'),
            ('late-error.fna', 'line 24, column 5:', "'X'"),
        ]
        for filename, *expected in cases:
            with self.subTest(filename):
                self.assert_import_fails('SampleSequences', filename,
                                         *expected)

    def test_binary_file_is_rejected_with_its_line(self):
        with tempfile.TemporaryDirectory(prefix='q2p-demo-') as temp:
            path = Path(temp) / 'seqs.fna.gz'
            path.write_bytes(b'>gut.1_1\nACGT\n\x1f\x8b\x08\x00\xff\n')
            with self.assertRaisesRegex(ValidationError,
                                        'line 3: .*not UTF-8'):
                Artifact.import_data('SampleSequences', str(path))

    def test_count_table_import(self):
        table = Artifact.import_data('CountTable[Kmer]',
                                     str(DATA / 'counts.tsv'))
        self.assertEqual(table.view(FeatureCounts),
                         FeatureCounts({'gut.1': {'AAAA': 3, 'AAAC': 1},
                                        'tongue.1': {'AAAC': 2}}))
        frame = table.view(pd.DataFrame)
        self.assertEqual(frame.loc['AAAC', 'tongue.1'], 2)
        empty = Artifact.import_data('CountTable[GCContent]',
                                     str(DATA / 'counts-empty-table.tsv'))
        self.assertEqual(empty.view(FeatureCounts), FeatureCounts())

    def test_count_table_rejects_malformed_files(self):
        cases = [
            ('empty.tsv', 'line 1:', 'empty'),
            ('bad-counts-header.tsv', 'line 1:', "'feature-id'", "'kmer'"),
            ('bad-counts-duplicate-sample.tsv', 'line 1:', "'gut.1'"),
            ('bad-counts-fields.tsv', 'line 3:', '2 fields', 'has 3'),
            ('bad-counts-value.tsv', 'line 3:', "'-1'", "'gut.2'"),
            ('bad-counts-duplicate-feature.tsv', 'line 3:',
             'already listed on line 2'),
        ]
        for filename, *expected in cases:
            with self.subTest(filename):
                self.assert_import_fails('CountTable[UniqueSequence]',
                                         filename, *expected)

    def test_representative_sequences(self):
        sequences = Artifact.import_data(
            'RepresentativeSequences',
            str(DATA / 'representative-sequences.fasta'))
        self.assertEqual(list(sequences.view(FeatureSequences).values()),
                         ['ACGTACGTAC', 'ACGTTTGCA'])
        empty = Artifact.import_data(
            'RepresentativeSequences',
            str(DATA / 'representative-sequences-empty.fasta'))
        self.assertEqual(empty.view(FeatureSequences), {})
        self.assert_import_fails('RepresentativeSequences',
                                 'bad-representative-characters.fasta',
                                 'line 4, column 5:', "'*'")


class FormatLevelTests(unittest.TestCase):
    def test_min_checks_the_first_records_and_max_the_whole_file(self):
        late = SampleSequencesFormat(DATA / 'late-error.fna', mode='r')
        late.validate(level='min')
        with self.assertRaisesRegex(ValidationError, 'line 24'):
            late.validate(level='max')

    def test_min_still_catches_an_early_error(self):
        bad = SampleSequencesFormat(DATA / 'bad-characters.fna', mode='r')
        with self.assertRaisesRegex(ValidationError, 'line 5'):
            bad.validate(level='min')


class RegistrationTests(TestPluginBase):
    package = 'q2_parallel'

    def test_types_and_formats_are_registered(self):
        for fragment in (SampleSequences, CountTable, Kmer, UniqueSequence,
                         GCContent, RepresentativeSequences):
            self.assertRegisteredSemanticType(fragment)
        for semantic_type, directory_format in [
                (SampleSequences, SampleSequencesDirectoryFormat),
                (CountTable[Kmer], CountTableDirectoryFormat),
                (CountTable[UniqueSequence], CountTableDirectoryFormat),
                (CountTable[GCContent], CountTableDirectoryFormat),
                (RepresentativeSequences,
                 RepresentativeSequencesDirectoryFormat)]:
            self.assertSemanticTypeRegisteredToFormat(semantic_type,
                                                      directory_format)

    def test_views_round_trip_through_their_formats(self):
        cases = [
            (SampleSequencesFormat, SampleReads, 'seqs.fna'),
            (CountTableFormat, FeatureCounts, 'counts.tsv'),
            (RepresentativeSequencesFormat, FeatureSequences,
             'representative-sequences.fasta'),
        ]
        for file_format, view_type, filename in cases:
            with self.subTest(filename):
                view = self.get_transformer(file_format, view_type)(
                    file_format(DATA / filename, mode='r'))
                written = self.get_transformer(view_type, file_format)(view)
                written.validate(level='max')
                again = self.get_transformer(file_format, view_type)(written)
                self.assertEqual(again, view)

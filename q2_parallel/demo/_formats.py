"""File formats of the demo artifacts, validated record by record.

``min`` validation checks the first records or rows (what an action needs to
trust its input quickly); ``max`` (what ``qiime tools import`` does) checks
the whole file.
"""
from qiime2.plugin import TextFileFormat, model

from ._fasta import check_any_id, check_sample_read_id, read_fasta
from ._tsv import read_counts

_FIRST = 10
_LIMIT = {'min': _FIRST, 'max': None}


class SampleSequencesFormat(TextFileFormat):
    """FASTA of DNA reads whose ids name their sample: ``>sampleA_1`` is
    read 1 of sample ``sampleA`` (the layout of QIIME 1 ``seqs.fna`` and of
    demultiplexed, quality-filtered reads). Text after the id is ignored."""

    def _validate_(self, level):
        for _ in read_fasta(str(self.path), check_sample_read_id,
                            max_records=_LIMIT[level]):
            pass


class RepresentativeSequencesFormat(TextFileFormat):
    """FASTA of one DNA sequence per feature id. It may hold no record: a
    dereplication whose abundance filter removed everything is valid."""

    def _validate_(self, level):
        for _ in read_fasta(str(self.path), check_any_id,
                            max_records=_LIMIT[level], allow_empty=True):
            pass


class CountTableFormat(TextFileFormat):
    """Tab-separated counts: header ``feature-id<TAB>SAMPLE...``, then one
    row per feature with a whole-number count in each sample."""

    def _validate_(self, level):
        read_counts(str(self.path), max_rows=_LIMIT[level])


SampleSequencesDirectoryFormat = model.SingleFileDirectoryFormat(
    'SampleSequencesDirectoryFormat', 'sequences.fasta',
    SampleSequencesFormat)

RepresentativeSequencesDirectoryFormat = model.SingleFileDirectoryFormat(
    'RepresentativeSequencesDirectoryFormat', 'dna-sequences.fasta',
    RepresentativeSequencesFormat)

CountTableDirectoryFormat = model.SingleFileDirectoryFormat(
    'CountTableDirectoryFormat', 'counts.tsv', CountTableFormat)

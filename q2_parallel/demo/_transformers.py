"""Transformers between the demo formats and their views.

Imported at the end of ``plugin_setup.py``, which defines ``plugin``.
"""
import pandas as pd

from ..plugin_setup import plugin
from ._fasta import check_any_id, check_sample_read_id, read_fasta, \
    write_fasta
from ._formats import CountTableFormat, RepresentativeSequencesFormat, \
    SampleSequencesFormat
from ._tsv import read_counts, write_counts
from ._views import FeatureCounts, FeatureSequences, Read, SampleReads


@plugin.register_transformer
def _1(ff: SampleSequencesFormat) -> SampleReads:
    return SampleReads(Read.from_id(read_id, sequence) for read_id, sequence
                       in read_fasta(str(ff), check_sample_read_id))


@plugin.register_transformer
def _2(reads: SampleReads) -> SampleSequencesFormat:
    ff = SampleSequencesFormat()
    write_fasta(str(ff), ((read.id, read.sequence) for read in reads))
    return ff


@plugin.register_transformer
def _3(ff: CountTableFormat) -> FeatureCounts:
    return read_counts(str(ff))


@plugin.register_transformer
def _4(table: FeatureCounts) -> CountTableFormat:
    ff = CountTableFormat()
    write_counts(str(ff), table)
    return ff


@plugin.register_transformer
def _5(ff: CountTableFormat) -> pd.DataFrame:
    """For the Artifact API: features as rows, samples as columns."""
    table = read_counts(str(ff))
    return pd.DataFrame(
        [[table.count(f, s) for s in table.samples] for f in table.features],
        index=pd.Index(table.features, name='feature-id'),
        columns=table.samples, dtype=int)


@plugin.register_transformer
def _6(ff: RepresentativeSequencesFormat) -> FeatureSequences:
    return FeatureSequences(read_fasta(str(ff), check_any_id,
                                       allow_empty=True))


@plugin.register_transformer
def _7(sequences: FeatureSequences) -> RepresentativeSequencesFormat:
    ff = RepresentativeSequencesFormat()
    write_fasta(str(ff), sequences.items())
    return ff

"""Demo actions of the ``parallel`` plugin: split-apply-combine Pipelines on
DNA reads whose FASTA ids name their sample (``>sampleA_1``).

The types, formats and views are public for use from the Artifact API; the
actions themselves are reached through QIIME 2 (``qiime parallel ...`` or
``qiime2.plugins.parallel``).
"""
from ._errors import DemoError
from ._formats import (
    CountTableDirectoryFormat, CountTableFormat,
    RepresentativeSequencesDirectoryFormat, RepresentativeSequencesFormat,
    SampleSequencesDirectoryFormat, SampleSequencesFormat)
from ._types import (CountTable, GCContent, Kmer, RepresentativeSequences,
                     SampleSequences, UniqueSequence)
from ._views import FeatureCounts, FeatureSequences, Read, SampleReads
from .example_data import simulate_reads, write_reads

__all__ = [
    'CountTable', 'CountTableDirectoryFormat', 'CountTableFormat',
    'DemoError', 'FeatureCounts', 'FeatureSequences', 'GCContent', 'Kmer',
    'Read', 'RepresentativeSequences',
    'RepresentativeSequencesDirectoryFormat',
    'RepresentativeSequencesFormat', 'SampleReads', 'SampleSequences',
    'SampleSequencesDirectoryFormat', 'SampleSequencesFormat',
    'UniqueSequence', 'simulate_reads', 'write_reads']

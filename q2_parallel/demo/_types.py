"""Semantic types of the demo actions."""
from qiime2.plugin import SemanticType

SampleSequences = SemanticType('SampleSequences')

CountTable = SemanticType('CountTable', field_names='type')
Kmer = SemanticType('Kmer', variant_of=CountTable.field['type'])
UniqueSequence = SemanticType('UniqueSequence',
                              variant_of=CountTable.field['type'])
GCContent = SemanticType('GCContent', variant_of=CountTable.field['type'])

RepresentativeSequences = SemanticType('RepresentativeSequences')

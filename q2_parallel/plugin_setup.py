"""Registration of the ``parallel`` QIIME 2 plugin."""
import importlib

from qiime2.plugin import Citations, Int, List, Plugin, Range, TypeMatch

import q2_parallel
from q2_parallel.demo import (
    CountTable, CountTableDirectoryFormat, CountTableFormat, GCContent, Kmer,
    RepresentativeSequences, RepresentativeSequencesDirectoryFormat,
    RepresentativeSequencesFormat, SampleSequences,
    SampleSequencesDirectoryFormat, SampleSequencesFormat, UniqueSequence)
from q2_parallel.demo import _examples as examples
from q2_parallel.demo._combine import (step_merge_counts,
                                       step_merge_representative_sequences)
from q2_parallel.demo._dereplicate import step_dereplicate
from q2_parallel.demo._gc_content import step_gc_content
from q2_parallel.demo._kmers import step_count_kmers
from q2_parallel.demo._split import step_split_sequences
from q2_parallel.demo import _pipelines as pipelines

citations = Citations.load('citations.bib', package='q2_parallel')

plugin = Plugin(
    name='parallel',
    version=q2_parallel.__version__,
    website='https://github.com/q2-parallel/q2-parallel',
    package='q2_parallel',
    description=(
        'Run QIIME 2 Pipelines in parallel with Parsl: q2-parallel runs '
        'their steps at the same time on the cores of one machine or the '
        'nodes of a cluster. Any Pipeline of any installed plugin gains '
        '`--parallel` and `--parallel-config` on the command line and '
        '`.parallel()` in the Artifact API. This plugin also registers demo '
        'pipelines that share split-apply-combine steps on DNA sequences.'),
    short_description='Run QIIME 2 Pipelines in parallel with Parsl.',
    citations=[citations['bolyen2019qiime2'], citations['babuji2019parsl']],
)

# Demo types and formats ------------------------------------------------------

plugin.register_semantic_types(SampleSequences, CountTable, Kmer,
                               UniqueSequence, GCContent,
                               RepresentativeSequences)
plugin.register_formats(
    SampleSequencesFormat, SampleSequencesDirectoryFormat,
    CountTableFormat, CountTableDirectoryFormat,
    RepresentativeSequencesFormat, RepresentativeSequencesDirectoryFormat)

plugin.register_artifact_class(
    SampleSequences, SampleSequencesDirectoryFormat,
    description=(
        'DNA reads of one or more samples, imported from a FASTA file whose '
        'ids name the sample of each read: ">sampleA_1" is read 1 of sample '
        '"sampleA" (everything before the last underscore), as in QIIME 1 '
        '"seqs.fna" files and demultiplexed reads. Text after the id is '
        'ignored; sequences may span several lines and use the IUPAC DNA '
        'letters ACGTRYSWKMBDHVN in either case. Import with `qiime tools '
        'import --type SampleSequences --input-path seqs.fna`.'))
_COUNT_TABLE_LAYOUT = (
    'Exported as counts.tsv: a header "feature-id<TAB>sample..." and one row '
    'per feature with its count in each sample.')
plugin.register_artifact_class(
    CountTable[Kmer], CountTableDirectoryFormat,
    description=('How often each k-mer (DNA word of length k) occurs in the '
                 'reads of each sample. ' + _COUNT_TABLE_LAYOUT))
plugin.register_artifact_class(
    CountTable[UniqueSequence], CountTableDirectoryFormat,
    description=('How many reads of each sample are copies of each unique '
                 'sequence (feature ids are the MD5 of the sequence). '
                 + _COUNT_TABLE_LAYOUT))
plugin.register_artifact_class(
    CountTable[GCContent], CountTableDirectoryFormat,
    description=('How many reads of each sample fall in each GC-content bin '
                 '(e.g. "gc050-055": 50 to 55 % G+C). ' + _COUNT_TABLE_LAYOUT))
plugin.register_artifact_class(
    RepresentativeSequences, RepresentativeSequencesDirectoryFormat,
    description=('One DNA sequence per feature id, exported as '
                 'dna-sequences.fasta.'))

# Shared descriptions ---------------------------------------------------------

_SEQUENCES_INPUT = {'sequences': SampleSequences}
_SEQUENCES_DESCRIPTION = {
    'sequences': 'The DNA reads, each labelled with its sample.'}
_PARTITIONS = {'partitions': Int % Range(1, None)}
_PARTITIONS_DESCRIPTION = {
    'partitions': (
        'How many parts to split the reads into; each part is processed by '
        'its own step, and with --parallel these steps run at the same time. '
        'All copies of a sequence go to one part, so there are at most as '
        'many parts as distinct sequences (asking for more gives one part per '
        'distinct sequence). The result does not depend on this number.')}
_K = {'k': Int % Range(1, 16, inclusive_end=True)}
_K_DESCRIPTION = {
    'k': ('The k-mer length. K-mers holding an ambiguous letter (N, R, Y...) '
          'are not counted.')}
_MIN_ABUNDANCE = {'min_abundance': Int % Range(1, None)}
_MIN_ABUNDANCE_DESCRIPTION = {
    'min_abundance': ('Keep only unique sequences read at least this many '
                      'times over all samples (2 drops singletons).')}
_BIN_WIDTH = {'bin_width': Int % Range(1, 100, inclusive_end=True)}
_BIN_WIDTH_DESCRIPTION = {
    'bin_width': ('The width of each GC-content bin, in per cent. GC content '
                  'is the share of G, C and S letters in a read, rounded '
                  'down to a whole per cent.')}

_KMER_OUTPUTS = [('kmer_counts', CountTable[Kmer])]
_KMER_OUTPUT_DESCRIPTIONS = {
    'kmer_counts': 'The count of each k-mer in each sample.'}
_DEREPLICATE_OUTPUTS = [('table', CountTable[UniqueSequence]),
                        ('representative_sequences', RepresentativeSequences)]
_DEREPLICATE_OUTPUT_DESCRIPTIONS = {
    'table': 'The number of copies of each unique sequence in each sample.',
    'representative_sequences': (
        'The unique sequences, each under its feature id (its MD5).')}
_GC_OUTPUTS = [('gc_counts', CountTable[GCContent])]
_GC_OUTPUT_DESCRIPTIONS = {
    'gc_counts': 'The number of reads of each sample in each GC-content bin.'}

# Pipelines -------------------------------------------------------------------


def _register_pipeline(function, parameters, parameter_descriptions,
                       outputs, output_descriptions, name, description,
                       parallel_work, examples):
    """A demo Pipeline: the reads in, its own parameters plus `partitions`,
    and the same closing sentence on what --parallel does."""
    plugin.pipelines.register_function(
        function=function,
        inputs=_SEQUENCES_INPUT,
        parameters={**parameters, **_PARTITIONS},
        outputs=outputs,
        input_descriptions=_SEQUENCES_DESCRIPTION,
        parameter_descriptions={**parameter_descriptions,
                                **_PARTITIONS_DESCRIPTION},
        output_descriptions=output_descriptions,
        name=name,
        description=(f'{description} A demo of a split-apply-combine '
                     f'Pipeline; run it with --parallel to {parallel_work} '
                     'the parts at the same time.'),
        citations=[citations['bolyen2019qiime2']],
        examples=examples)


_register_pipeline(
    pipelines.count_kmers, _K, _K_DESCRIPTION, _KMER_OUTPUTS,
    _KMER_OUTPUT_DESCRIPTIONS,
    name='Count k-mers per sample, in parts',
    description=(
        'Count the k-mers of the reads of each sample: the reads are split '
        'into parts, the k-mers of each part are counted, and the partial '
        'counts are summed.'),
    parallel_work='count',
    examples={'import_reads_and_count_kmers': examples.count_kmers})

_register_pipeline(
    pipelines.dereplicate, _MIN_ABUNDANCE, _MIN_ABUNDANCE_DESCRIPTION,
    _DEREPLICATE_OUTPUTS, _DEREPLICATE_OUTPUT_DESCRIPTIONS,
    name='Dereplicate reads into unique sequences, in parts',
    description=(
        'Group identical reads into unique sequences, count the copies of '
        'each in each sample and drop rare ones: the reads are split so that '
        'all copies of a sequence share a part, each part is dereplicated, '
        'and the partial tables and sequences are merged.'),
    parallel_work='dereplicate',
    examples={'import_reads_and_dereplicate': examples.dereplicate})

_register_pipeline(
    pipelines.gc_content, _BIN_WIDTH, _BIN_WIDTH_DESCRIPTION, _GC_OUTPUTS,
    _GC_OUTPUT_DESCRIPTIONS,
    name='GC-content distribution per sample, in parts',
    description=(
        'Count how many reads of each sample fall in each GC-content bin: '
        'the reads are split into parts, each part is binned, and the '
        'partial counts are summed.'),
    parallel_work='bin',
    examples={'import_reads_and_bin_gc_content': examples.gc_content})

# Split, apply and combine steps ----------------------------------------------
# Their ids start with "step_" (QIIME 2 2022.11 has no hidden actions, and
# q2cli turns a leading "_" into a "-" that reads as an option).


def _register_step(function, description, example, **registration):
    plugin.methods.register_function(
        function=function,
        description=(description + ' A step of the demo Pipelines, usable '
                     'on its own.'),
        examples={function.__name__: example}, **registration)


_register_step(
    step_split_sequences,
    inputs=_SEQUENCES_INPUT,
    parameters={'part': Int % Range(0, None), **_PARTITIONS},
    outputs=[('split', SampleSequences)],
    input_descriptions=_SEQUENCES_DESCRIPTION,
    parameter_descriptions={
        'part': 'Which part to return, from 0 to partitions - 1.',
        'partitions': ('How many parts the reads are split into; at most the '
                       'number of distinct sequences.')},
    output_descriptions={'split': 'The reads of the requested part.'},
    name='One part of a split of reads',
    description=(
        'Return part `part` of the reads split into `partitions` parts. All '
        'copies of a sequence share a part, parts hold about as many reads '
        'each, none is empty, and the split depends only on the reads, so '
        'the parts of one split are disjoint and together hold every read.'),
    example=examples.step_split_sequences)


def _register_apply_step(function, parameters, parameter_descriptions,
                         outputs, output_descriptions, name, description,
                         example):
    """An apply step: the reads of one part in, the Pipeline's own
    parameters and outputs."""
    _register_step(
        function, description, example, inputs=_SEQUENCES_INPUT,
        parameters=parameters, outputs=outputs,
        input_descriptions=_SEQUENCES_DESCRIPTION,
        parameter_descriptions=parameter_descriptions,
        output_descriptions=output_descriptions, name=name)


_register_apply_step(
    step_count_kmers, _K, _K_DESCRIPTION, _KMER_OUTPUTS,
    _KMER_OUTPUT_DESCRIPTIONS, name='Count k-mers per sample',
    description='Count the k-mers of the reads of each sample.',
    example=examples.step_count_kmers)

_register_apply_step(
    step_dereplicate, _MIN_ABUNDANCE, _MIN_ABUNDANCE_DESCRIPTION,
    _DEREPLICATE_OUTPUTS, _DEREPLICATE_OUTPUT_DESCRIPTIONS,
    name='Dereplicate reads into unique sequences',
    description=('Group identical reads and count the copies of each in each '
                 'sample. The abundance filter needs all copies of a '
                 'sequence at once, which step-split-sequences guarantees.'),
    example=examples.step_dereplicate)

_register_apply_step(
    step_gc_content, _BIN_WIDTH, _BIN_WIDTH_DESCRIPTION, _GC_OUTPUTS,
    _GC_OUTPUT_DESCRIPTIONS, name='GC-content distribution',
    description=('Count how many reads of each sample fall in each '
                 'GC-content bin.'),
    example=examples.step_gc_content)

_T_COUNTS = TypeMatch([Kmer, UniqueSequence, GCContent])
_register_step(
    step_merge_counts,
    inputs={'tables': List[CountTable[_T_COUNTS]]},
    parameters={},
    outputs=[('merged', CountTable[_T_COUNTS])],
    input_descriptions={'tables': 'The partial count tables, of one kind.'},
    parameter_descriptions={},
    output_descriptions={'merged': 'Their sum, of the same kind.'},
    name='Sum count tables',
    description=(
        'Add up count tables: each count of the result is the sum of that '
        "feature's count in that sample over all tables. Merging the tables "
        'computed on the parts of a split gives the table of the whole.'),
    example=examples.step_merge_counts)

_register_step(
    step_merge_representative_sequences,
    inputs={'sequences': List[RepresentativeSequences]},
    parameters={},
    outputs=[('merged', RepresentativeSequences)],
    input_descriptions={'sequences': 'The partial sets of sequences.'},
    parameter_descriptions={},
    output_descriptions={'merged': 'All their sequences, sorted by id.'},
    name='Merge representative sequences',
    description=(
        'Gather the sequences of several sets into one, sorted by feature '
        'id; a feature id found in two sets must have the same sequence in '
        'both.'),
    example=examples.step_merge_representative_sequences)

importlib.import_module('q2_parallel.demo._transformers')

# Give every action of every plugin `.parallel` (see q2_parallel.engine.hooks).
importlib.import_module('q2_parallel.engine.hooks').install()

"""Usage examples: import a FASTA of reads, then run an action on it.

Rendered by ``qiime parallel <action> --help``, written out by
``--example-data`` and run by the tests.
"""
from qiime2.plugin.util import transform

from .example_data import simulate_reads
from ._formats import SampleSequencesFormat


def _reads_fasta():
    return transform(simulate_reads(samples=4, reads_per_sample=25, taxa=10),
                     to_type=SampleSequencesFormat)


def _imported_sequences(use):
    fasta = use.init_format('seqs', _reads_fasta, ext='fna')
    return use.import_from_format('sequences', 'SampleSequences', fasta)


def _run(use, action_id, outputs, **inputs):
    return use.action(use.UsageAction(plugin_id='parallel',
                                      action_id=action_id),
                      use.UsageInputs(**inputs),
                      use.UsageOutputNames(**outputs))


def _on_sequences(action_id, outputs, **parameters):
    """An example that imports reads, then runs ``action_id`` on them."""
    def example(use):
        sequences = _imported_sequences(use)
        _run(use, action_id, outputs, sequences=sequences, **parameters)
    return example


def _split_apply_merge(apply_id, outputs, merged_output, merge_id,
                       merge_input):
    """An example spelling out by hand what a demo Pipeline does: split in
    two, apply ``apply_id`` to each part, merge the two partial
    ``merged_output``s with ``merge_id``."""
    def example(use):
        sequences = _imported_sequences(use)
        partials = []
        for index in range(2):
            part, = _run(use, 'step_split_sequences',
                         {'split': f'part-{index}'}, sequences=sequences,
                         part=index, partitions=2)
            results = _run(use, apply_id,
                           {k: f'{v}-{index}' for k, v in outputs.items()},
                           sequences=part)
            partials.append(getattr(results, merged_output))
        _run(use, merge_id, {'merged': f'merged-{outputs[merged_output]}'},
             **{merge_input: partials})
    return example


_KMER_OUTPUTS = {'kmer_counts': 'kmer-counts'}
_DEREPLICATE_OUTPUTS = {'table': 'table',
                        'representative_sequences': 'representative-sequences'}
_GC_OUTPUTS = {'gc_counts': 'gc-counts'}

count_kmers = _on_sequences('count_kmers', _KMER_OUTPUTS, k=4, partitions=4)
dereplicate = _on_sequences('dereplicate', _DEREPLICATE_OUTPUTS,
                            min_abundance=2, partitions=4)
gc_content = _on_sequences('gc_content', _GC_OUTPUTS, bin_width=5,
                           partitions=4)
step_split_sequences = _on_sequences(
    'step_split_sequences', {'split': 'part-0'}, part=0, partitions=2)
step_count_kmers = _on_sequences('step_count_kmers', _KMER_OUTPUTS, k=4)
step_dereplicate = _on_sequences('step_dereplicate', _DEREPLICATE_OUTPUTS,
                                 min_abundance=2)
step_gc_content = _on_sequences('step_gc_content', _GC_OUTPUTS, bin_width=5)
step_merge_counts = _split_apply_merge(
    'step_count_kmers', _KMER_OUTPUTS, 'kmer_counts', 'step_merge_counts',
    'tables')
step_merge_representative_sequences = _split_apply_merge(
    'step_dereplicate', _DEREPLICATE_OUTPUTS, 'representative_sequences',
    'step_merge_representative_sequences', 'sequences')

"""The demo Pipelines: one split, one apply per part, one combine per output.

All three share ``_split_apply_combine``, so serial and parallel runs (where
each ``ctx.get_action`` call returns at once with stand-ins for its results)
issue the same steps in the same order. The stand-ins are only passed on,
never looked inside; only the Pipeline's own input is read, to learn how
many parts it can be split into.
"""
from ._split import distinct_sequences
from ._views import SampleReads

PLUGIN = 'parallel'


def usable_partitions(sequences, partitions):
    """``partitions``, or fewer if the input has fewer distinct sequences
    (every part must hold at least one)."""
    return min(partitions, distinct_sequences(sequences.view(SampleReads)))


def _split_apply_combine(ctx, sequences, partitions, apply_id, combine_ids,
                         **apply_parameters):
    split = ctx.get_action(PLUGIN, 'step_split_sequences')
    apply = ctx.get_action(PLUGIN, apply_id)
    parts = usable_partitions(sequences, partitions)
    partials = []
    for index in range(parts):
        part, = split(sequences, part=index, partitions=parts)
        partials.append(apply(part, **apply_parameters))
    merged = []
    for output, combine_id in enumerate(combine_ids):
        combine = ctx.get_action(PLUGIN, combine_id)
        result, = combine([partial[output] for partial in partials])
        merged.append(result)
    return tuple(merged)


def count_kmers(ctx, sequences, k=4, partitions=4):
    return _split_apply_combine(ctx, sequences, partitions, 'step_count_kmers',
                                ['step_merge_counts'], k=k)


def dereplicate(ctx, sequences, min_abundance=1, partitions=4):
    return _split_apply_combine(
        ctx, sequences, partitions, 'step_dereplicate',
        ['step_merge_counts', 'step_merge_representative_sequences'],
        min_abundance=min_abundance)


def gc_content(ctx, sequences, bin_width=5, partitions=4):
    return _split_apply_combine(ctx, sequences, partitions, 'step_gc_content',
                                ['step_merge_counts'], bin_width=bin_width)

"""The shared combine steps: merge partial results into one."""
from ._views import FeatureCounts, FeatureSequences


def step_merge_counts(tables: FeatureCounts) -> FeatureCounts:
    """Sum of the tables (``tables`` is the list of partial tables)."""
    return FeatureCounts.sum(tables)


def step_merge_representative_sequences(
        sequences: FeatureSequences) -> FeatureSequences:
    """Union of the partial ``sequences`` (a list), sorted by id."""
    return FeatureSequences.union(sequences)

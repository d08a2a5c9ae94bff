"""Apply step: k-mer counts per sample."""
import re
from collections import Counter

from ._views import FeatureCounts, SampleReads

_UNAMBIGUOUS_RUNS = re.compile('[ACGT]+')


def step_count_kmers(sequences: SampleReads, k: int = 4) -> FeatureCounts:
    """Counts of each k-mer in each sample; k-mers that hold an ambiguous
    letter (N, R, Y...) are not counted."""
    counts = {}
    for read in sequences:
        sample_counts = counts.setdefault(read.sample, Counter())
        for run in _UNAMBIGUOUS_RUNS.findall(read.sequence):
            sample_counts.update(run[i:i + k]
                                 for i in range(len(run) - k + 1))
    return FeatureCounts(counts)

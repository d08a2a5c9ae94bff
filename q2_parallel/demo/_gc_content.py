"""Apply step: distribution of GC content per sample."""
from ._views import FeatureCounts, SampleReads

_STRONG = frozenset('GCS')


def gc_bin(sequence, bin_width):
    """The GC-content bin of a sequence, e.g. ``gc050-055`` for 50 to 55 %.

    GC content is the share of G, C and S (G or C) letters, in whole per
    cent rounded down; 100 % falls in the last bin below it.
    """
    percent = 100 * sum(base in _STRONG for base in sequence) // len(sequence)
    low = min(percent, 99) // bin_width * bin_width
    return f'gc{low:03d}-{min(low + bin_width, 100):03d}'


def step_gc_content(sequences: SampleReads,
                    bin_width: int = 5) -> FeatureCounts:
    """How many reads of each sample fall in each GC-content bin."""
    counts = {}
    for read in sequences:
        sample_counts = counts.setdefault(read.sample, {})
        key = gc_bin(read.sequence, bin_width)
        sample_counts[key] = sample_counts.get(key, 0) + 1
    return FeatureCounts(counts)

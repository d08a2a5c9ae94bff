"""Apply step: dereplication into unique sequences with counts per sample."""
import hashlib
from collections import Counter

from ._views import FeatureCounts, FeatureSequences, SampleReads


def feature_id(sequence):
    """QIIME 2's usual feature id for a sequence: the MD5 of its letters."""
    return hashlib.md5(sequence.encode('ascii')).hexdigest()


def step_dereplicate(
        sequences: SampleReads,
        min_abundance: int = 1) -> (FeatureCounts, FeatureSequences):
    """Unique sequences seen at least ``min_abundance`` times over all
    samples: their counts per sample and their sequences, keyed by MD5.

    The abundance filter needs every copy of a sequence at once, which is
    why the split step keeps all copies of a sequence in one part.
    """
    per_sequence = {}
    for read in sequences:
        per_sequence.setdefault(read.sequence, Counter())[read.sample] += 1
    kept = {feature_id(sequence): (sequence, samples)
            for sequence, samples in per_sequence.items()
            if sum(samples.values()) >= min_abundance}
    counts = {}
    for feature, (_, samples) in kept.items():
        for sample, count in samples.items():
            counts.setdefault(sample, {})[feature] = count
    representatives = FeatureSequences(
        sorted((feature, sequence) for feature, (sequence, _) in kept.items()))
    return FeatureCounts(counts), representatives

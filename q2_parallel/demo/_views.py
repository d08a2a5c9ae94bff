"""In-memory views of the demo artifacts: what the actions compute with.

They are plain, immutable-in-spirit Python objects with value equality, so
that a result computed in parts can be compared with one computed whole.
"""
from collections import Counter
from dataclasses import dataclass

from ._errors import DemoError


@dataclass(frozen=True)
class Read:
    """One DNA read: its id (``sample_N``), the sample it came from, and its
    sequence in upper-case IUPAC letters."""
    id: str
    sample: str
    sequence: str

    @classmethod
    def from_id(cls, read_id, sequence):
        """A read whose sample is what its id holds before the last '_'."""
        return cls(read_id, read_id.rpartition('_')[0], sequence)


class SampleReads(tuple):
    """The reads of one or more samples, in file order."""

    def __new__(cls, reads=()):
        return super().__new__(cls, reads)

    def __repr__(self):
        return f'SampleReads(<{len(self)} reads>)'


class FeatureCounts:
    """How often each feature (row: a k-mer, a unique sequence, a GC bin)
    occurs in each sample (column).

    Zero counts are not stored, so two tables holding the same non-zero
    counts are equal however they were built; a sample or feature with no
    count at all is not part of the table.
    """

    def __init__(self, counts=None):
        """``counts`` maps sample id -> {feature id: count}."""
        self._counts = {}
        for sample, features in (counts or {}).items():
            kept = Counter({f: c for f, c in features.items() if c})
            if kept:
                self._counts[sample] = kept

    @classmethod
    def sum(cls, tables):
        """One table whose every count is the sum over ``tables``."""
        total = {}
        for table in tables:
            for sample, features in table._counts.items():
                total.setdefault(sample, Counter()).update(features)
        return cls(total)

    @property
    def samples(self):
        return sorted(self._counts)

    @property
    def features(self):
        return sorted(set().union(*self._counts.values()))

    def count(self, feature, sample):
        return self._counts.get(sample, {}).get(feature, 0)

    def __eq__(self, other):
        return (isinstance(other, FeatureCounts)
                and self._counts == other._counts)

    def __repr__(self):
        return (f'FeatureCounts(<{len(self.features)} features x '
                f'{len(self.samples)} samples>)')


class FeatureSequences(dict):
    """Feature id -> DNA sequence (e.g. the representative sequence of each
    unique sequence found by dereplication)."""

    @classmethod
    def union(cls, parts):
        """All features of ``parts``; an id must mean one sequence."""
        merged = cls()
        for part in parts:
            for feature, sequence in part.items():
                if merged.setdefault(feature, sequence) != sequence:
                    raise DemoError(
                        f'Feature {feature!r} has two different sequences in '
                        'the partial results being merged, so they did not '
                        'come from one dereplication run: merge only the '
                        'outputs of one split of one input.')
        return cls(sorted(merged.items()))

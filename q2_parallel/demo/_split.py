"""The shared split step: the i-th of n parts of a set of reads."""
import heapq
from collections import Counter

from ._errors import DemoError
from ._views import SampleReads


def distinct_sequences(reads):
    return len({read.sequence for read in reads})


def assign_parts(reads, partitions):
    """Map each distinct sequence to a part number, so that all copies of a
    sequence share a part and parts hold about as many reads each.

    Deterministic without hashing: the most frequent sequences are placed
    first (ties broken by the sequence itself), each in the part holding
    the fewest reads so far (ties: the lowest part number). With at least
    as many distinct sequences as parts, no part is empty.
    """
    copies = Counter(read.sequence for read in reads)
    loads = [(0, part) for part in range(partitions)]
    assignment = {}
    for sequence, count in sorted(copies.items(), key=lambda c: (-c[1], c[0])):
        load, part = heapq.heappop(loads)
        assignment[sequence] = part
        heapq.heappush(loads, (load + count, part))
    return assignment


def step_split_sequences(sequences: SampleReads, part: int,
                         partitions: int) -> SampleReads:
    if part >= partitions:
        raise DemoError(f'part {part} does not exist: parts of a split into '
                        f'{partitions} are numbered 0 to {partitions - 1}.')
    available = distinct_sequences(sequences)
    if partitions > available:
        raise DemoError(f'cannot split reads with {available} distinct '
                        f'sequences into {partitions} non-empty parts: use '
                        f'at most {available} partitions.')
    assignment = assign_parts(sequences, partitions)
    return SampleReads(read for read in sequences
                       if assignment[read.sequence] == part)

"""A seeded simulation of demultiplexed 16S-like amplicon reads.

Used by the usage examples, the tests, ``scripts/make_example_data.py`` and
the benchmarks, so that all of them see data of the same kind: several body
sites sampled twice each; every sample holds reads from its own mix of
taxa, whose sequences share a conserved backbone and differ in variable
regions and in length; most reads are exact copies of their taxon's
sequence (so dereplication matters), some carry a sequencing error or an N.
"""
import random

from ._fasta import write_fasta
from ._views import Read, SampleReads

BODY_SITES = ('gut', 'tongue', 'left-palm', 'right-palm')
_BASES = 'ACGT'
_VARIABLE_REGIONS = ((60, 100), (150, 190))


def simulate_reads(samples=8, reads_per_sample=150, taxa=40, seed=2022):
    """Reads of ``samples`` samples (named ``gut.1``, ``tongue.1``, ...,
    ``gut.2`` ...), interleaved as a sequencer would emit them, with ids
    ``<sample>_<n>`` numbered through the file as in QIIME 1 ``seqs.fna``.
    """
    rng = random.Random(seed)
    backbone = _random_dna(rng, 253)
    references = [_taxon(rng, backbone) for _ in range(taxa)]
    names = [f'{BODY_SITES[i % len(BODY_SITES)]}.{i // len(BODY_SITES) + 1}'
             for i in range(samples)]
    site_taxa = {site: rng.sample(range(taxa), k=max(1, taxa // 2))
                 for site in BODY_SITES}
    pending = []
    for name in names:
        members = site_taxa[name.split('.')[0]]
        weights = [rng.lognormvariate(0, 1.5) for _ in members]
        for taxon in rng.choices(members, weights=weights,
                                 k=reads_per_sample):
            pending.append((name, _with_errors(rng, references[taxon])))
    rng.shuffle(pending)
    return SampleReads(Read(f'{name}_{n}', name, sequence)
                       for n, (name, sequence) in enumerate(pending, 1))


def write_reads(reads, path):
    """Write reads as the FASTA file a user would import."""
    write_fasta(path, ((read.id, read.sequence) for read in reads))


def _random_dna(rng, length, gc=0.54):
    weights = ((1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2)
    return ''.join(rng.choices(_BASES, weights=weights, k=length))


def _taxon(rng, backbone):
    """The backbone with its variable regions rewritten in the taxon's own
    GC content, some longer or shorter than the backbone's."""
    sequence, previous_end = [], 0
    gc = rng.uniform(0.2, 0.8)
    for start, end in _VARIABLE_REGIONS:
        sequence.append(backbone[previous_end:start])
        sequence.append(_random_dna(rng, end - start + rng.randint(-8, 8), gc))
        previous_end = end
    sequence.append(backbone[previous_end:])
    return ''.join(sequence)


def _with_errors(rng, sequence):
    """Most reads are exact; a quarter have one substitution, a few an N."""
    draw = rng.random()
    if draw >= 0.25:
        return sequence
    position = rng.randrange(len(sequence))
    base = 'N' if draw < 0.02 else rng.choice(
        [b for b in _BASES if b != sequence[position]])
    return sequence[:position] + base + sequence[position + 1:]

"""Write the demo's example reads: a seeded FASTA with sample ids in the
headers (``>gut.1_1``), as QIIME 1 ``seqs.fna`` files have them.

    python scripts/make_example_data.py [--output demo-output/seqs.fna]
"""
import argparse
from pathlib import Path

from q2_parallel.demo import simulate_reads, write_reads


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--output', type=Path,
                        default=Path('demo-output') / 'seqs.fna')
    parser.add_argument('--samples', type=int, default=8)
    parser.add_argument('--reads-per-sample', type=int, default=150)
    parser.add_argument('--seed', type=int, default=2022)
    args = parser.parse_args()
    reads = simulate_reads(samples=args.samples,
                           reads_per_sample=args.reads_per_sample,
                           seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_reads(reads, args.output)
    distinct = len({read.sequence for read in reads})
    print(f'{args.output}: {len(reads)} reads of {args.samples} samples, '
          f'{distinct} distinct sequences, '
          f'{args.output.stat().st_size // 1024} KB')


if __name__ == '__main__':
    main()

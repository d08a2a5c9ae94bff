#!/usr/bin/env bash
# `make demo`: import the example reads with the real `qiime`, dereplicate
# them with the demo Pipeline in parallel, export the results as plain files.
# Expects the venv's bin directory on PATH (the Makefile puts it there).
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo-output
mkdir -p "$out"
rm -rf "$out/dereplicate" "$out/exported"

python scripts/make_example_data.py --output "$out/seqs.fna"
qiime tools import --type SampleSequences \
    --input-path "$out/seqs.fna" --output-path "$out/seqs.qza"

# --parallel uses the config the lookup finds; this says which, and why.
python -m q2_parallel.config show | head -n 2
qiime parallel dereplicate \
    --i-sequences "$out/seqs.qza" \
    --p-min-abundance 2 \
    --p-partitions 4 \
    --parallel \
    --output-dir "$out/dereplicate"

for output in table representative_sequences; do
    qiime tools export --input-path "$out/dereplicate/$output.qza" \
        --output-path "$out/exported/$output"
done

cat <<DONE

Results are in $out/:
  seqs.fna, seqs.qza             the example reads (FASTA) and their import
  dereplicate/*.qza              the Pipeline's outputs
  exported/table/counts.tsv      copies of each unique sequence per sample
  exported/representative_sequences/dna-sequences.fasta
                                 the unique sequences (ids: MD5 of each)
DONE

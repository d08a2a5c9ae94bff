"""Reading, checking and writing count tables as tab-separated text.

Layout: a header ``feature-id<TAB>SAMPLE...`` and one row per feature with
its non-negative integer count in each sample, rows and columns sorted.
"""
from ._text import invalid, numbered_lines
from ._views import FeatureCounts

ID_HEADER = 'feature-id'


def read_counts(path, max_rows=None):
    """The table in ``path``, checking every row (or the first
    ``max_rows``); each problem names its line."""
    lines = numbered_lines(path)
    header = next(lines, None)
    if header is None:
        raise invalid(1, f'the file is empty: expected a header line '
                         f"'{ID_HEADER}<TAB>SAMPLE-ID...'.")
    number, line = header
    samples = _samples(number, line.split('\t'))
    counts = {sample: {} for sample in samples}
    first_line = {}
    for number, line in lines:
        if max_rows is not None and len(first_line) >= max_rows:
            break
        feature, *values = line.split('\t')
        if len(values) != len(samples):
            raise invalid(number, f'{len(values) + 1} fields where the '
                                  f'header has {len(samples) + 1}.')
        if not feature:
            raise invalid(number, 'the feature id (first field) is empty.')
        if feature in first_line:
            raise invalid(number, f'feature {feature!r} was already listed '
                                  f'on line {first_line[feature]}.')
        first_line[feature] = number
        for sample, value in zip(samples, values):
            if not (value.isascii() and value.isdigit()):
                raise invalid(number, f'the count of {feature!r} in sample '
                                      f'{sample!r} is {value!r}, not a '
                                      'non-negative whole number.')
            counts[sample][feature] = int(value)
    return FeatureCounts(counts)


def _samples(number, fields):
    if fields[0] != ID_HEADER:
        raise invalid(number, f'the header must start with {ID_HEADER!r}, '
                              f'found {fields[0][:30]!r}.')
    samples = fields[1:]
    for column, sample in enumerate(samples, start=2):
        if not sample:
            raise invalid(number, f'the sample id in column {column} is '
                                  'empty.')
        if sample in samples[:column - 2]:
            raise invalid(number, f'sample {sample!r} has more than one '
                                  'column.')
    return samples


def write_counts(path, table):
    samples = table.samples
    with open(path, 'w') as handle:
        handle.write('\t'.join([ID_HEADER, *samples]) + '\n')
        for feature in table.features:
            counts = (str(table.count(feature, s)) for s in samples)
            handle.write('\t'.join([feature, *counts]) + '\n')

"""Reading, checking and writing FASTA files of DNA sequences."""
import re

from ._text import invalid, numbered_lines

IUPAC_DNA = 'ACGTRYSWKMBDHVN'
_NOT_IUPAC_DNA = re.compile(f'[^{IUPAC_DNA}{IUPAC_DNA.lower()}]')


def check_any_id(record_id):
    """Any non-empty first word of a header is a valid id."""
    return None


def check_sample_read_id(record_id):
    """Why ``record_id`` is not of the form ``SAMPLEID_N``, or None."""
    sample, _, read = record_id.rpartition('_')
    if not sample or not read:
        return (f'the read id {record_id!r} does not name its sample: '
                'expected the sample id, an underscore and a read number, '
                "as in '>sampleA_1' (the sample id is everything before the "
                'last underscore).')
    return None


def read_fasta(path, check_id, max_records=None, allow_empty=False):
    """Yield ``(id, SEQUENCE)`` for each record of ``path``, in file order.

    The id is the header's first word; sequences may span several lines and
    are returned upper-case. Checks, each naming its line: header syntax
    (and ``check_id``), unique ids, IUPAC DNA letters only, no record
    without a sequence, and (unless ``allow_empty``) at least one record.
    Stops after ``max_records`` records when given.
    """
    first_line = {}
    record_id = header_line = None
    chunks = []
    for number, line in numbered_lines(path):
        if line.startswith('>'):
            if record_id is not None:
                yield record_id, _sequence(record_id, header_line, chunks)
                if max_records is not None and len(first_line) >= max_records:
                    return
            record_id = _header_id(line, number, check_id)
            if record_id in first_line:
                raise invalid(number, f'the id {record_id!r} was already '
                                      f'used on line {first_line[record_id]};'
                                      ' ids must be unique.')
            first_line[record_id] = header_line = number
            chunks = []
        elif record_id is None:
            raise invalid(number, "expected a FASTA header starting with "
                                  f"'>', found {line[:30]!r}.")
        else:
            bad = _NOT_IUPAC_DNA.search(line)
            if bad:
                raise invalid(number, f'{bad.group()!r} is not an IUPAC DNA '
                                      f'letter (allowed: {IUPAC_DNA}, either '
                                      'case; no gaps, no RNA U).',
                              column=bad.start() + 1)
            chunks.append(line)
    if record_id is None:
        if not allow_empty:
            raise invalid(1, 'the file holds no FASTA record: it is empty.')
        return
    yield record_id, _sequence(record_id, header_line, chunks)


def _header_id(line, number, check_id):
    words = line[1:].split()
    if not words or line[1].isspace():
        raise invalid(number, f'the header {line[:30]!r} has no id: the id '
                              "must follow '>' directly, as in '>sampleA_1'.")
    problem = check_id(words[0])
    if problem:
        raise invalid(number, problem)
    return words[0]


def _sequence(record_id, header_line, chunks):
    if not chunks:
        raise invalid(header_line, f'the record {record_id!r} has no '
                                   'sequence: the file is truncated or a '
                                   'sequence line is missing.')
    return ''.join(chunks).upper()


def write_fasta(path, records):
    """Write ``(id, sequence)`` records, one sequence line each."""
    with open(path, 'w') as handle:
        for record_id, sequence in records:
            handle.write(f'>{record_id}\n{sequence}\n')

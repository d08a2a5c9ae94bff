"""Line-numbered reading of text files, shared by the FASTA and TSV readers.

Every problem is raised as QIIME 2's ``ValidationError`` with the line it is
on; QIIME 2 prefixes the file's path when a format is validated.
"""
from qiime2.plugin import ValidationError


def invalid(line_number, problem, column=None):
    where = f'line {line_number}' + (f', column {column}' if column else '')
    return ValidationError(f'{where}: {problem}')


def numbered_lines(path):
    """Yield ``(line number, text without line end)`` for each non-blank
    line. Blank lines are accepted only at the end of the file, and text
    must be UTF-8 (decoded per line, so an error can name its line)."""
    blank_line = None
    with open(path, 'rb') as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode('utf-8')
            except UnicodeDecodeError:
                raise invalid(number, 'this is not UTF-8 text; is the file '
                                      'compressed or binary?') from None
            if number == 1:
                line = line.lstrip('\ufeff')
            line = line.rstrip()
            if not line:
                blank_line = blank_line or number
                continue
            if blank_line is not None:
                raise invalid(blank_line, 'blank line between records; '
                                          'remove it.')
            yield number, line

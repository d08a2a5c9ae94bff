"""``IntList``: a text file of integers, one per line."""
import qiime2.plugin.model as model
from qiime2.plugin import SemanticType, ValidationError

IntList = SemanticType('IntList')


class IntListFormat(model.TextFileFormat):
    def _validate_(self, level):
        with self.open() as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    int(line)
                except ValueError:
                    raise ValidationError(
                        f'line {number} is not an integer: {line!r}')


IntListDirFormat = model.SingleFileDirectoryFormat(
    'IntListDirFormat', 'ints.txt', IntListFormat)


def to_list(ff: IntListFormat) -> list:
    with ff.open() as fh:
        return [int(line) for line in fh]


def from_list(data: list) -> IntListFormat:
    ff = IntListFormat()
    with ff.open() as fh:
        fh.writelines(f'{n}\n' for n in data)
    return ff

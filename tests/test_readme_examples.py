"""The README's copy-paste examples, run for real so that they cannot rot.

A fenced ```bash or ```python block right after a line `<!-- tested -->` is
run, in README order, in one fresh folder, as a reader pasting them one
after another would: bash blocks with `bash -e -o pipefail`, python blocks
with the venv's Python. The environment is that of a QIIME 2 conda
environment after installing q2-parallel: a private HOME, and a
`$CONDA_PREFIX` whose `etc/qiime2_config.toml` the recipe's post-link.sh
wrote (so `--parallel` and `ParallelConfig()` use the default config).
"""
import re
import subprocess

import pytest

from tests.helpers import REPO, VENV_BIN, isolated_env
from tests.test_recipe import python_link, run_script

# Slow: runs the README's blocks in subprocesses.
pytestmark = pytest.mark.slow

README = REPO / 'README.md'
MARK = '<!-- tested -->'
RUNNERS = {'bash': ['bash', '-e', '-o', 'pipefail'],
           'python': [str(VENV_BIN / 'python')]}


def marked_blocks(text):
    """(heading, language, code) of each marked block, in order."""
    lines = text.splitlines()
    blocks, heading = [], ''
    for number, line in enumerate(lines):
        if line.startswith('#'):
            heading = line.lstrip('#').strip()
        if line.strip() != MARK:
            continue
        fence = re.fullmatch(r'```(\w+)\s*', lines[number + 1]
                             if number + 1 < len(lines) else '')
        if not fence or fence.group(1) not in RUNNERS:
            raise ValueError(f'README.md line {number + 1}: {MARK} must be'
                             ' followed by a ```bash or ```python block.')
        end = lines.index('```', number + 2)
        blocks.append((heading, fence.group(1),
                       '\n'.join(lines[number + 2:end]) + '\n'))
    return blocks


BLOCKS = marked_blocks(README.read_text()) if README.exists() else []


def block_id(block):
    heading, language, _ = block
    return f'{re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")}' \
           f'-{language}'


@pytest.fixture(scope='module')
def reader(tmp_path_factory):
    """(folder, environment) shared by all blocks, in README order."""
    root = tmp_path_factory.mktemp('readme')
    prefix = root / 'conda-env'
    python_link(prefix, f'exec {VENV_BIN / "python"} "$@"')
    run_script('post-link.sh', prefix)
    work = root / 'work'
    work.mkdir()
    env = isolated_env(root / 'home', CONDA_PREFIX=prefix,
                       XDG_CONFIG_DIRS=root / 'no-site-config')
    return work, env


def test_readme_has_tested_examples():
    assert BLOCKS, (f'{README} has no code block marked {MARK}: put the'
                    ' marker on the line before each copy-paste example.')


@pytest.mark.parametrize('block', BLOCKS,
                         ids=[f'{n}-{block_id(b)}'
                              for n, b in enumerate(BLOCKS, 1)])
def test_readme_example_runs(block, reader):
    heading, language, code = block
    work, env = reader
    done = subprocess.run(RUNNERS[language], input=code, cwd=work, env=env,
                          text=True, capture_output=True, timeout=600)
    assert done.returncode == 0, (
        f'README example under "{heading}" failed:\n{code}\n'
        f'--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}')

"""`make dev`'s environment build: quick when done, clear when it cannot."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import pytest

from tests.helpers import PROFILE, REPO

# Slow: builds environments with apt and pip.
pytestmark = pytest.mark.slow

BOOTSTRAP = REPO / 'scripts' / 'bootstrap-venv.sh'
VENV = Path(sys.executable).parent.parent
PYTHON_DIR = 'python%d.%d' % sys.version_info[:2]


def bootstrap(profile=PROFILE, **env):
    return subprocess.run([shutil.which('bash'), str(BOOTSTRAP), profile],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


class BootstrapTests(unittest.TestCase):
    def test_second_run_changes_nothing(self):
        site = VENV / 'lib' / PYTHON_DIR / 'site-packages'
        before = sorted(os.listdir(site))
        result = bootstrap(VENV=str(VENV))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, '')  # no step had anything to do
        self.assertEqual(sorted(os.listdir(site)), before)

    def test_missing_python_is_explained(self):
        with tempfile.TemporaryDirectory() as tmp:
            # A PATH with only what the script needs before it looks for
            # Python, and a HOME without pyenv.
            os.mkdir(f'{tmp}/bin')
            os.symlink(shutil.which('dirname'), f'{tmp}/bin/dirname')
            result = bootstrap('conda-2022.11', VENV=f'{tmp}/venv', HOME=tmp,
                               PYTHON38='', PATH=f'{tmp}/bin')
            self.assertFalse(os.path.exists(f'{tmp}/venv'))
        self.assertEqual(result.returncode, 1)
        self.assertIn('no Python 3.8 interpreter found for the conda-2022.11'
                      ' profile', result.stderr)
        self.assertIn("'pyenv install 3.8'", result.stderr)
        self.assertIn('PYTHON38', result.stderr)

    def test_unknown_profile_is_explained(self):
        result = bootstrap('conda-2099.1')
        self.assertEqual(result.returncode, 1)
        self.assertIn("no environment profile 'conda-2099.1'", result.stderr)
        self.assertIn('conda-2022.11', result.stderr)

    def test_failed_download_is_explained(self):
        with tempfile.TemporaryDirectory() as tmp:
            # Nothing listens on port 9 of this machine: apt fails at once.
            result = bootstrap(VENV=f'{tmp}/venv',
                               DEBIAN_MIRROR='http://127.0.0.1:9/debian')
            self.assertFalse(
                (Path(tmp) / 'venv/lib' / PYTHON_DIR / 'site-packages/qiime2'
                 ).exists())
        self.assertEqual(result.returncode, 1)
        self.assertIn('apt-get download of qiime=2022.11.1-2 and '
                      'q2cli=2022.11.1-2 from http://127.0.0.1:9/debian '
                      '(bookworm) failed', result.stderr)
        self.assertIn('DEBIAN_MIRROR', result.stderr)

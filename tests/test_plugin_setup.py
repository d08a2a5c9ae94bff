"""The plugin is registered with QIIME 2 and seen by the real `qiime`."""
import unittest

import pytest
from qiime2.plugin.testing import TestPluginBase

from tests.helpers import run_qiime


class PluginSetupTests(TestPluginBase):
    package = 'q2_parallel'

    def test_plugin_registered(self):
        from q2_parallel.plugin_setup import plugin
        self.assertEqual(plugin.name, 'parallel')
        self.assertEqual(plugin.package, 'q2_parallel')
        citations = {c.fields['doi'] for c in plugin.citations}
        self.assertEqual(citations, {'10.1038/s41587-019-0209-9',
                                     '10.1145/3307681.3325400'})

    def test_plugin_found_by_plugin_manager(self):
        import qiime2.sdk
        self.assertIn('parallel', qiime2.sdk.PluginManager().plugins)


@pytest.mark.slow  # runs the real qiime in subprocesses
class QiimeCommandTests(unittest.TestCase):
    def test_qiime_info_lists_plugin(self):
        result = run_qiime('info')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('QIIME 2 version: 2022.11.1', result.stdout)
        self.assertIn('parallel: ', result.stdout)

    def test_qiime_parallel_help(self):
        result = run_qiime('parallel', '--help')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('Run QIIME 2 Pipelines in parallel', result.stdout)

"""The conda recipe: it renders as conda-build would render it, names every
dependency the package imports, and its link scripts write, keep and remove
the default config as documented. conda-build is not available here, so the
scripts run for real against a temporary prefix whose ``bin/python`` is the
venv's Python."""
import ast
import importlib.util
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import jinja2
import pytest
import yaml

import q2_parallel
from q2_parallel.config import default_config_text, get_config_from_file
from tests.helpers import REPO, VENV_BIN, isolated_env

RECIPE = REPO / 'recipe'
# conda package names of the import names that differ from them.
CONDA_NAMES = {'yaml': 'pyyaml', 'zmq': 'pyzmq'}

# What conda-build's load_setup_py_data does: run setup.py with setup()
# replaced by a function that keeps its keyword arguments.
_CAPTURE_SETUP = '''
import json, runpy, setuptools
captured = {}
setuptools.setup = lambda **kwargs: captured.update(kwargs)
runpy.run_path("setup.py", run_name="__main__")
plain = {}
for key, value in captured.items():
    try:
        plain[key] = json.loads(json.dumps(value))
    except TypeError:
        pass  # classes (cmdclass) are not data the recipe can use
print(json.dumps(plain))
'''


def load_setup_py_data():
    output = subprocess.run([sys.executable, '-c', _CAPTURE_SETUP], cwd=REPO,
                            text=True, capture_output=True, check=True)
    return json.loads(output.stdout)


def render_recipe():
    """meta.yaml through Jinja (undefined names are errors) and YAML."""
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    template = jinja.from_string((RECIPE / 'meta.yaml').read_text())
    return yaml.safe_load(template.render(
        load_setup_py_data=load_setup_py_data, PYTHON='$PYTHON'))


def requirement_names(requirements):
    return {spec.split()[0] for spec in requirements}


def imported_distributions():
    """conda names of the third-party modules that q2_parallel imports."""
    names = set()
    for path in (REPO / 'q2_parallel').rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            names.update(module.split('.')[0] for module in modules)
    third_party = {name for name in names - {'q2_parallel'}
                   if not is_standard_library(name)}
    return {CONDA_NAMES.get(name, name) for name in third_party}


def is_standard_library(module):
    """Whether ``module`` comes with Python (``sys.stdlib_module_names``
    is new in 3.10: on 3.8, where its file lies tells)."""
    if hasattr(sys, 'stdlib_module_names'):
        return module in sys.stdlib_module_names
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin in (None, 'built-in', 'frozen'):
        return spec is not None
    stdlib = sysconfig.get_paths()['stdlib']
    return (spec.origin.startswith(stdlib)
            and 'site-packages' not in spec.origin)


@pytest.fixture(scope='module')
def recipe():
    return render_recipe()


def test_recipe_describes_this_package(recipe):
    assert recipe['package'] == {'name': 'q2-parallel',
                                 'version': q2_parallel.__version__}
    assert recipe['source'] == {'path': '..'}
    assert recipe['build']['noarch'] == 'python'
    assert '-m pip install . --no-deps' in recipe['build']['script']
    about = recipe['about']
    assert about['license'] == 'BSD-3-Clause'
    assert about['home'].startswith('https://')
    assert about['summary']


def test_run_requirements_name_every_imported_dependency(recipe):
    setup_data = load_setup_py_data()
    run = requirement_names(recipe['requirements']['run'])
    expected = ({'python'} | requirement_names(setup_data['install_requires'])
                | imported_distributions())
    assert run == expected, (
        f'recipe/meta.yaml lacks {sorted(expected - run)} and names'
        f' {sorted(run - expected)} that the package does not use')


def test_framework_pinned_to_the_supported_release(recipe):
    run = recipe['requirements']['run']
    assert 'qiime2 2022.11.*' in run
    assert 'q2cli 2022.11.*' in run
    assert 'click <8.2' in run


# The link scripts ----------------------------------------------------------

@pytest.fixture
def prefix(tmp_path):
    """A conda-like prefix whose bin/python runs the venv's Python (a
    symlink would not: a venv is found from the path of its python)."""
    root = tmp_path / 'env'
    python_link(root, f'exec {VENV_BIN / "python"} "$@"')
    return root


def python_link(root, command):
    (root / 'bin').mkdir(parents=True, exist_ok=True)
    python = root / 'bin' / 'python'
    python.write_text(f'#!/bin/sh\n{command}\n')
    python.chmod(0o755)


def run_script(name, root):
    env = isolated_env(root.parent / 'home', PREFIX=root,
                       PKG_NAME='q2-parallel',
                       PKG_VERSION=q2_parallel.__version__, PKG_BUILDNUM=0)
    done = subprocess.run(['bash', str(RECIPE / name)], env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def messages(root):
    path = root / '.messages.txt'
    return path.read_text() if path.exists() else ''


def config_path(root):
    return root / 'etc' / 'qiime2_config.toml'


def test_post_link_writes_the_default_config(prefix):
    (prefix / '.messages.txt').write_text('another package: hello\n')
    run_script('post-link.sh', prefix)
    path = config_path(prefix)
    assert path.read_text() == default_config_text()
    config, mapping = get_config_from_file(path)
    executors = {e.label: type(e).__name__ for e in config.executors}
    assert executors == {'default': 'ThreadPoolExecutor',
                         'htex': 'HighThroughputExecutor'}
    assert config.executors[1].address == '127.0.0.1'
    assert mapping == {}
    text = messages(prefix)
    assert text.startswith('another package: hello\n')
    assert f'q2-parallel: wrote the default parallel config to {path}' in text


def test_post_link_keeps_an_existing_file(prefix):
    run_script('post-link.sh', prefix)
    path = config_path(prefix)
    edited = path.read_text() + '# edited by hand\n'
    path.write_text(edited)
    run_script('post-link.sh', prefix)
    assert path.read_text() == edited
    assert f'kept the parallel config already at {path}' in messages(prefix)


def test_conda_prefix_makes_lookup_step_4_find_it(prefix, tmp_path):
    run_script('post-link.sh', prefix)
    env = isolated_env(tmp_path / 'home', CONDA_PREFIX=prefix,
                       XDG_CONFIG_DIRS=tmp_path / 'no-site-config')
    shown = subprocess.run(
        [str(VENV_BIN / 'python'), '-m', 'q2_parallel.config', 'show'],
        env=env, text=True, capture_output=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert f'Config file: {config_path(prefix)}' in shown.stdout
    assert 'lookup step 4' in shown.stdout


@pytest.mark.parametrize('broken, reason', [
    ('no python', 'bin/python was not found'),
    ('no package', "No module named 'q2_parallel'"),
    ('etc is a file', 'could not be'),
])
def test_post_link_failure_is_loud_but_harmless(tmp_path, broken, reason):
    root = tmp_path / 'env'
    root.mkdir()
    if broken == 'no package':  # the interpreter the venv was made from
        python_link(root, f'exec {os.path.realpath(sys.executable)} "$@"')
    elif broken == 'etc is a file':
        python_link(root, f'exec {VENV_BIN / "python"} "$@"')
        (root / 'etc').write_text('')
    run_script('post-link.sh', root)  # exit status 0 is asserted there
    text = messages(root)
    assert 'q2-parallel: WARNING: the default parallel config was NOT' in text
    assert reason in text
    assert 'python -m q2_parallel.config init' in text


def test_pre_unlink_removes_the_unedited_default(prefix):
    run_script('post-link.sh', prefix)
    run_script('pre-unlink.sh', prefix)
    assert list((prefix / 'etc').iterdir()) == []
    assert 'removed the default parallel config' in messages(prefix)


def test_pre_unlink_keeps_an_edited_file(prefix):
    run_script('post-link.sh', prefix)
    path = config_path(prefix)
    path.write_text(path.read_text() + '\nsome_action = "htex"\n')
    edited = path.read_text()
    run_script('pre-unlink.sh', prefix)
    assert path.read_text() == edited
    assert not Path(f'{path}.sha256').exists()
    assert f'kept the parallel config {path}' in messages(prefix)
    run_script('post-link.sh', prefix)  # a reinstall: still the user's
    assert path.read_text() == edited


def test_pre_unlink_keeps_a_file_it_did_not_write(prefix):
    path = config_path(prefix)
    path.parent.mkdir()
    path.write_text(default_config_text())  # e.g. written by --parallel
    run_script('post-link.sh', prefix)
    run_script('pre-unlink.sh', prefix)
    assert path.read_text() == default_config_text()


def test_upgrade_replaces_an_unedited_default(prefix):
    run_script('post-link.sh', prefix)
    path = config_path(prefix)
    checksum = Path(f'{path}.sha256')
    old = path.read_text().replace('[parsl]', '# an older release\n[parsl]')
    path.write_text(old)  # as if an older release had written this text
    checksum.write_text(hashlib.sha256(
        old.encode()).hexdigest() + '\n')
    run_script('pre-unlink.sh', prefix)  # the old package goes
    run_script('post-link.sh', prefix)   # the new one comes
    assert path.read_text() == default_config_text()


@pytest.mark.slow  # runs the real qiime in subprocesses
def test_recipe_test_section_passes_in_this_environment(recipe, prefix):
    """The imports and commands conda-build would run in its test
    environment, here with the venv and the prefix post-link wrote to."""
    run_script('post-link.sh', prefix)
    env = isolated_env(prefix.parent / 'home', PREFIX=prefix)
    for module in recipe['test']['imports']:
        subprocess.run([str(VENV_BIN / 'python'), '-c', f'import {module}'],
                       env=env, check=True, timeout=120)
    for command in recipe['test']['commands']:
        done = subprocess.run(['bash', '-c', command], env=env, text=True,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, f'{command}\n{done.stdout}{done.stderr}'

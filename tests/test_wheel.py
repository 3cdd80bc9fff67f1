"""The package as a user gets it, not as the editable install of the repository shows it.

The sdist is built from a copy of the working tree, and the wheel from that sdist (as `python -m build` does, and as
PyPI users get it); both must hold every module under gradclip/, the tutorials and py.typed. The wheel is then
installed into a fresh virtual environment, and everything below runs there, away from the repository:
importing every module, the `gradclip tutorials` console script, one tutorial top to bottom. `gradclip.core` runs in
an environment that holds torch and torch's own dependencies only.

No network: the build runs without isolation, the wheel installs with --no-deps and --no-index, and its dependencies
are the ones already installed in this test environment (the fresh venv sees this environment's site-packages
through a .pth file, placed after its own, so the installed wheel comes first).
"""
import importlib.metadata, json, os, re, shutil, subprocess, sys, sysconfig, tarfile, textwrap, zipfile
from pathlib import Path
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import check_dist          # the same check the release workflow runs on what it publishes
TUTORIAL = '04_mixed_precision.ipynb'    # short, and it reaches fp16, callback, demos.base and demos.precision

def run(cmd, **kw) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=kw.pop('timeout', 600), **kw)
    assert res.returncode == 0, f'{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}'
    return res

def clean_env(**extra) -> dict:
    "This process's environment without what would put the repository (or this venv's copy) on the path"
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'VIRTUAL_ENV')}
    return {**env, 'PYTHONNOUSERSITE': '1', **extra}

@pytest.fixture(scope='module')
def dist(tmp_path_factory) -> dict[str, Path]:
    "sdist and wheel built from a copy of the working tree (tracked and untracked, not ignored files)"
    src, out = tmp_path_factory.mktemp('src'), tmp_path_factory.mktemp('dist')
    files = run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT).stdout.split('\n')
    for f in filter(None, files):
        if (ROOT/f).is_file(): (src/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, src/f)
    run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, src], cwd=src)
    (wheel,), (sdist,) = out.glob('*.whl'), out.glob('*.tar.gz')
    return {'wheel': wheel, 'sdist': sdist}

def test_wheel_holds_every_module_the_tutorials_and_py_typed(dist):
    with zipfile.ZipFile(dist['wheel']) as z:
        names = set(z.namelist())
        meta = z.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
        entry_points = z.read(next(n for n in names if n.endswith('.dist-info/entry_points.txt'))).decode()
    assert not (found := check_dist.problems(dist['wheel'])), found
    assert re.search(r'^gradclip = gradclip\.cli:main$', entry_points, re.M), entry_points
    requires = re.findall(r'^Requires-Dist: (.*)$', meta, re.M)
    base = {Requirement(r).name for r in requires if 'extra ==' not in r}
    tutorials = {Requirement(r).name for r in requires if re.search(r'extra == "tutorials"', r)}
    assert base == {'fastai', 'torch', 'matplotlib'}, base
    assert {'ipywidgets', 'scikit-learn', 'jupyterlab'} <= tutorials, tutorials
    print(f"{dist['wheel'].name}: {dist['wheel'].stat().st_size / 1e3:.0f} kB, {len(names)} files")

def test_sdist_holds_every_module_and_the_tutorials(dist):
    assert not (found := check_dist.problems(dist['sdist'])), found
    print(f"{dist['sdist'].name}: {dist['sdist'].stat().st_size / 1e3:.0f} kB")

def site_packages(python) -> Path:
    return Path(run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.strip())

@pytest.fixture(scope='module')
def venv(dist, tmp_path_factory) -> dict[str, Path]:
    "A fresh venv holding the wheel; its dependencies come from this environment, seen after its own site-packages"
    home = tmp_path_factory.mktemp('venv')/'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', home])
    python = home/'bin'/'python'
    site = site_packages(python)
    ours = {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']}
    (site/'zz_test_env.pth').write_text('\n'.join(sorted(ours)) + '\n')       # plain paths: their .pth files stay unread
    # this environment's pip, run by the new interpreter, installs into the new venv
    run([python, '-m', 'pip', 'install', '--no-deps', '--no-index', '--ignore-installed', '--no-warn-script-location',
         '--disable-pip-version-check', dist['wheel']], env=clean_env())
    return {'home': home, 'python': python, 'site': site}

CHECK_IMPORTS = '''
import importlib, importlib.metadata, importlib.resources, json, sys
from packaging.requirements import Requirement
site, modules = sys.argv[1], json.loads(sys.argv[2])
import gradclip
where = {m: importlib.import_module(m).__file__ for m in modules}
unmet = []
for r in map(Requirement, importlib.metadata.requires('gradclip')):
    if r.marker and not any(r.marker.evaluate({'extra': e}) for e in ('', 'tutorials')): continue
    try: v = importlib.metadata.version(r.name)
    except importlib.metadata.PackageNotFoundError: v = None
    if v is None or not r.specifier.contains(v, prereleases=True): unmet.append(f'{r} (found {v})')
nbs = sorted(f.name for f in importlib.resources.files('gradclip.tutorials').iterdir() if f.name.endswith('.ipynb'))
print(json.dumps({'where': where, 'dist': str(importlib.metadata.distribution('gradclip').locate_file('')),
                  'unmet': unmet, 'notebooks': nbs}))
'''

def modules() -> list[str]:
    return sorted(f[:-3].replace('/', '.').removesuffix('.__init__') for f in check_dist.wheel_files() if f.endswith('.py'))

def test_installed_wheel_imports_every_module_from_the_venv(venv, tmp_path):
    res = json.loads(run([venv['python'], '-c', CHECK_IMPORTS, venv['site'], json.dumps(modules())],
                         cwd=tmp_path, env=clean_env()).stdout)
    outside = {m: f for m, f in res['where'].items() if not Path(f).is_relative_to(venv['site'])}
    assert not outside, f'imported from outside the venv: {outside}'
    assert Path(res['dist']) == venv['site']
    assert 'gradclip.demos.precision' in res['where'] and 'gradclip.cli' in res['where']
    assert res['notebooks'] == sorted(p.name for p in (ROOT/'nbs'/'tutorials').glob('*.ipynb'))
    assert not res['unmet'], f"gradclip's declared requirements are not met here: {res['unmet']}"

def test_console_script_copies_the_tutorials(venv, tmp_path):
    out = run([venv['home']/'bin'/'gradclip', 'tutorials', 'lessons', '--no-lab'], cwd=tmp_path, env=clean_env()).stdout
    assert out.startswith('gradclip ') and str((tmp_path/'lessons').resolve()) in out.splitlines()[0], out
    copied = sorted(p.name for p in (tmp_path/'lessons').glob('*.ipynb'))
    assert copied == sorted(p.name for p in (ROOT/'nbs'/'tutorials').glob('*.ipynb'))
    # the copy is the notebook as JupyterLab leaves it on opening (so opening it writes nothing): the same cells and
    # outputs, plus the kernelspec and language_info of the kernel the venv's JupyterLab starts
    ours, copy = (json.loads(p.read_text()) for p in (ROOT/'nbs'/'tutorials'/TUTORIAL, tmp_path/'lessons'/TUTORIAL))
    kernel = json.loads(run([venv['python'], '-c', KERNEL_METADATA], cwd=tmp_path, env=clean_env()).stdout)
    assert kernel['kernelspec']['name'] == 'python3' and kernel['language_info']['name'] == 'python', kernel
    assert copy['cells'] == ours['cells']
    assert copy['metadata'] == {**ours['metadata'], **kernel}
    assert {k: v for k, v in copy.items() if k != 'metadata'} == {k: v for k, v in ours.items() if k != 'metadata'}

KERNEL_METADATA = 'import json; from gradclip.cli import kernel_metadata; print(json.dumps(kernel_metadata()))'

RUN_TUTORIAL = '''
import sys
from pathlib import Path
from nbdev.test import test_nb
ok, took = test_nb(sys.argv[1], skip_flags=['slow'], profile=False, cell_timeout=300)
import gradclip.demos.precision as m
assert Path(m.__file__).is_relative_to(sys.argv[2]), m.__file__
print(f'{Path(sys.argv[1]).name}: ran in {took:.1f} s against {Path(m.__file__).parent.parent}')
sys.exit(0 if ok else 1)
'''

def test_a_tutorial_runs_against_the_installed_wheel(venv, tmp_path):
    "As nbdev-test runs it (`#| slow` cells skipped), from a folder outside the repository"
    nb = tmp_path/TUTORIAL
    shutil.copy(ROOT/'nbs'/'tutorials'/TUTORIAL, nb)
    print(run([venv['python'], '-c', RUN_TUTORIAL, nb, venv['site']], cwd=tmp_path, env=clean_env()).stdout.strip())

def torch_closure() -> dict:
    "torch and every distribution it requires, recursively, as installed in this environment"
    found, todo = {}, ['torch']
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found: continue
        found[name] = dist = importlib.metadata.distribution(name)
        for r in map(Requirement, dist.requires or []):
            if r.marker is None or r.marker.evaluate({'extra': ''}): todo.append(r.name)
    return found

CORE = '''
import importlib.util, sys
from pathlib import Path
import torch
import gradclip.core as core
assert Path(core.__file__).is_relative_to(sys.argv[1]), core.__file__
p = torch.nn.Parameter(torch.zeros(4)); p.grad = torch.full((4,), 3.)
norm = core.clip_grad_norm_([p], max_norm=1.0)
assert abs(norm.item() - 6.) < 1e-5 and abs(p.grad.norm().item() - 1.) < 1e-4, (norm, p.grad)
present = [m for m in ('fastai', 'fastcore', 'matplotlib', 'ipywidgets', 'sklearn') if importlib.util.find_spec(m)]
assert not present, f'not a torch-only environment: {present}'
print(f'gradclip.core with torch {torch.__version__} alone: clipped a norm of {norm.item():g} to 1')
'''

def test_core_needs_only_torch(dist, tmp_path):
    "gradclip.core from the wheel, in a venv that sees only torch and its dependencies (symlinked from this one)"
    deps = tmp_path/'torch_only'; deps.mkdir()
    for dist_ in torch_closure().values():
        base = Path(dist_.locate_file(''))
        for top in {Path(str(f)).parts[0] for f in dist_.files or [] if not str(f).startswith('..')}:
            if not (deps/top).exists() and (base/top).exists(): (deps/top).symlink_to(base/top)
    pkgs = tmp_path/'gradclip_only'
    run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index', '--target', pkgs, '--disable-pip-version-check', dist['wheel']])
    run([sys.executable, '-m', 'venv', '--without-pip', tmp_path/'venv'])
    python = tmp_path/'venv'/'bin'/'python'
    (site_packages(python)/'zz_paths.pth').write_text(f'{pkgs}\n{deps}\n')
    print(run([python, '-c', CORE, pkgs], cwd=tmp_path, env=clean_env()).stdout.strip())

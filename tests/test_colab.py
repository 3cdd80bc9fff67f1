"""Every tutorial opens in Colab: an "Open in Colab" badge linking to that notebook on the repository from
pyproject.toml, and a first code cell that installs gradclip in Colab and does nothing anywhere else.

Colab is simulated: the install cell runs with and without a stand-in `google.colab` module, with `subprocess.run`
recorded instead of run. (tools/colab_cells.py writes both cells.)
"""
import json, re, subprocess, sys, types
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))
REPO = re.search(r'^Repository\s*=\s*"https://github\.com/([^"/]+/[^"/]+?)/?"', (ROOT/'pyproject.toml').read_text(), re.M).group(1)

def cells(path):
    return [(c['cell_type'], ''.join(c['source'])) for c in json.loads(path.read_text())['cells']]

def install_cell(path) -> str:
    return next(src for kind, src in cells(path) if kind == 'code')

def test_there_are_tutorials():
    assert len(TUTORIALS) == 6

@pytest.mark.parametrize('path', TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_has_an_open_in_colab_badge_under_its_title(path):
    (k0, title), (k1, badge) = cells(path)[:2]
    assert k0 == 'markdown' and title.startswith('# ')
    url = f'https://colab.research.google.com/github/{REPO}/blob/main/nbs/tutorials/{path.name}'
    assert k1 == 'markdown' and f']({url})' in badge and 'Open In Colab' in badge, badge

def run_cell(src, monkeypatch, in_colab: bool) -> list:
    calls = []
    monkeypatch.setattr(subprocess, 'run', lambda *a, **k: calls.append((a, k)))
    if in_colab:
        google = types.ModuleType('google'); google.colab = types.ModuleType('google.colab')
        monkeypatch.setitem(sys.modules, 'google', google); monkeypatch.setitem(sys.modules, 'google.colab', google.colab)
    else: monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
    exec(compile(src, 'install cell', 'exec'), {})
    return calls

@pytest.mark.parametrize('path', TUTORIALS, ids=lambda p: p.stem)
def test_first_code_cell_installs_gradclip_in_colab_only(path, monkeypatch):
    src = install_cell(path)
    calls = run_cell(src, monkeypatch, in_colab=True)
    assert calls == [(([sys.executable, '-m', 'pip', 'install', '--quiet', 'gradclip'],), {'check': True})], calls
    assert run_cell(src, monkeypatch, in_colab=False) == []

def test_every_tutorial_has_the_same_install_cell():
    assert len({install_cell(p) for p in TUTORIALS}) == 1

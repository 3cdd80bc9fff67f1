"""Give every tutorial its "Open in Colab" badge and its Colab-only install cell, or bring them up to date.

    python tools/colab_cells.py            (then nbdev-clean; tests/test_colab.py checks the result)

The badge goes in a markdown cell right after the title cell, its link built from the repository URL in
pyproject.toml; the install cell becomes the first code cell. Both are recognised by their content, so running this
again replaces them in place instead of adding more. No other cell is touched.
"""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT/'nbs'/'tutorials'
BADGE_IMG = 'https://colab.research.google.com/assets/colab-badge.svg'
# Colab already has matplotlib, scikit-learn and fastai's other needs, and ipywidgets in the version its widget manager
# supports: so gradclip alone, not the [tutorials] extra, which would replace that ipywidgets and add JupyterLab
INSTALL = '''# In Google Colab only: install gradclip (Colab has the rest). Anywhere else this cell does nothing.
import subprocess, sys
if 'google.colab' in sys.modules:
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', 'gradclip'], check=True)'''

def repository() -> str:
    "owner/name from the Repository URL in pyproject.toml (a regex: tomllib is not in Python 3.10)"
    url = re.search(r'^Repository\s*=\s*"https://github\.com/([^"]+?)/?"', (ROOT/'pyproject.toml').read_text(), re.M).group(1)
    return url.removesuffix('.git')

def colab_url(name: str) -> str:
    return f'https://colab.research.google.com/github/{repository()}/blob/main/nbs/tutorials/{name}'

def badge(name: str) -> str:
    return f'[![Open In Colab]({BADGE_IMG})]({colab_url(name)})'

def _cell(kind, id, source):
    c = {'cell_type': kind, 'id': id, 'metadata': {}, 'source': source.splitlines(keepends=True)}
    return c if kind == 'markdown' else {**c, 'execution_count': None, 'outputs': []}

def update(path: Path) -> None:
    nb = json.loads(path.read_text())
    cells = [c for c in nb['cells'] if not (c['cell_type'] == 'markdown' and BADGE_IMG in ''.join(c['source']))
             and not (c['cell_type'] == 'code' and "'google.colab' in sys.modules" in ''.join(c['source']))]
    cells[1:1] = [_cell('markdown', 'colab-badge', badge(path.name)), _cell('code', 'colab-install', INSTALL)]
    nb['cells'] = cells
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

if __name__ == '__main__':
    for p in sorted(TUTORIALS.glob('*.ipynb')):
        update(p); print(p.relative_to(ROOT))

"""Execute notebooks in a fresh kernel and save their outputs the way GitHub and the docs site need them.

    python tools/run_notebooks.py [NOTEBOOK ...]      (default: every notebook under nbs/)

Each notebook runs top to bottom in a new kernel, from its own folder, except `#| eval: false` cells (as in
nbdev-test). A demo's output carries two views: the live
widget and a PNG of its figure. A saved widget view would show "Error displaying widget: model not found" in a
JupyterLab that has not run the cell yet, and nothing at all on GitHub, so it is removed wherever the PNG is there to
stand in for it. Then `nbdev-clean` normalises the metadata. Prints how long each notebook took.

For each tutorial it runs, it records in `tests/saved_outputs.json` which numbers this machine computes
(`tools/numerics.py`): `tests/test_tutorials.py` compares a fresh run with the saved outputs where that fingerprint
is the same.
"""
import subprocess, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from numerics import fingerprint, record_saved
WIDGET = 'application/vnd.jupyter.widget-view+json'

def strip_widget_views(nb) -> int:
    "Drop widget views from outputs that also carry a PNG; returns how many were dropped"
    n = 0
    for cell in nb.cells:
        for out in cell.get('outputs', []):
            data = out.get('data', {})
            if WIDGET in data and 'image/png' in data:
                del data[WIDGET]; n += 1
    nb.metadata.pop('widgets', None)
    return n

SKIP = 'skip-execution'

def _eval_false(cell) -> bool:
    return cell.cell_type == 'code' and any(l.replace(' ', '') == '#|eval:false' for l in cell.source.splitlines())

def run(path: Path, timeout=600) -> float:
    nb = nbformat.read(path, as_version=4)
    skipped = [c for c in nb.cells if _eval_false(c)]          # as nbdev-test does: `#| eval: false` cells don't run
    for c in skipped: c.metadata.setdefault('tags', []).append(SKIP)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name='python3', skip_cells_with_tag=SKIP,
                   resources={'metadata': {'path': str(path.parent)}}).execute()
    took = time.perf_counter() - t0
    for c in skipped:
        c.metadata['tags'].remove(SKIP)
        if not c.metadata['tags']: del c.metadata['tags']
    strip_widget_views(nb)
    nbformat.write(nb, path)
    return took

if __name__ == '__main__':
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT/'nbs').rglob('*.ipynb'))
    paths = [p for p in paths if '.ipynb_checkpoints' not in p.parts]
    here = fingerprint()              # in this process: the kernels get its environment, so they compute alike
    for p in paths:
        print(f"{p.relative_to(ROOT)}: {run(p):.1f} s", flush=True)
        if p.parent == ROOT/'nbs'/'tutorials': record_saved(p.name, here)
    subprocess.run([str(Path(sys.executable).parent/'nbdev-clean')], cwd=ROOT, check=True)

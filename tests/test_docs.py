"""The docs site, up to what Quarto would render: README and home page agree, the sidebar covers every notebook,
nbdev's notebook processing runs clean, every public name has its `show_doc` entry, and tutorial pages keep figures.

Quarto itself is not installed where these tests run (its installers download from GitHub); `make docs` renders the
site where it is. Everything before rendering is checked here.
"""
import ast, importlib, json, re, shutil, subprocess, sys
from pathlib import Path
import pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
WIDGET = 'application/vnd.jupyter.widget-view+json'

def notebooks():
    return sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)

def commands(text):
    "The `make ...` commands in fenced code blocks, comments stripped"
    blocks = re.findall(r'```(?:sh|bash)?\n(.*?)```', text, re.S)
    return [l.split('#')[0].strip() for b in blocks for l in b.splitlines() if l.strip().startswith('make ')]

def test_readme_and_index_give_the_same_two_commands():
    index = json.loads((NBS/'index.ipynb').read_text())
    md = '\n'.join(''.join(c['source']) for c in index['cells'] if c['cell_type'] == 'markdown')
    assert commands((ROOT/'README.md').read_text()) == commands(md) == ['make lab', 'make test']
    targets = re.findall(r'^([a-z-]+):', (ROOT/'Makefile').read_text(), re.M)
    assert {'lab', 'test'} <= set(targets)

def sidebar_entries(contents):
    for item in contents:
        if isinstance(item, str): yield item
        else: yield from sidebar_entries(item['contents'])

def test_sidebar_lists_every_notebook_once_in_order():
    sidebar = yaml.safe_load((NBS/'sidebar.yml').read_text())['website']['sidebar']['contents']
    entries = list(sidebar_entries(sidebar))
    assert sorted(entries) == notebooks(), "nbs/sidebar.yml must list every notebook exactly once"
    sections = {s['section']: list(sidebar_entries(s['contents'])) for s in sidebar if isinstance(s, dict)}
    assert sections['Tutorials'] == sorted(sections['Tutorials']), 'tutorials in learning (file) order'
    assert entries[0] == 'index.ipynb'

def test_import_cells_hold_only_imports_or_setup():
    """In a library notebook nbdev re-runs every cell that contains an import when it builds the docs (to render
    `show_doc`): such a cell must not depend on cells it won't run. So outside hidden setup and exported cells, imports
    get cells of their own. (Tutorials export nothing and show no docs, so nbdev runs none of their cells.)"""
    bad = []
    for rel in notebooks():
        cells = json.loads((NBS/rel).read_text())['cells']
        if not any('#| default_exp' in ''.join(c['source']) for c in cells): continue
        for i, c in enumerate(cells):
            src = ''.join(c['source'])
            if c['cell_type'] != 'code' or 'nbdev_export()' in src: continue
            dirs = {l[3:].strip().split()[0] for l in src.splitlines() if l.startswith('#| ') and l[3:].strip()}
            if dirs & {'hide', 'export', 'exports', 'exporti', 'eval:'}: continue
            tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.startswith('#|')))
            if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and \
               any(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body):
                bad.append(f'{rel} cell {i}: {src[:60]!r}')
    assert not bad, 'put these imports in a cell of their own:\n' + '\n'.join(bad)

@pytest.fixture(scope='module')
def processed(tmp_path_factory):
    "Run nbdev's docs processing (everything before Quarto) on a copy of the working tree; returns the _proc folder"
    work = tmp_path_factory.mktemp('docs')
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        if (ROOT/f).is_file(): (work/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, work/f)
    code = ("import nbdev.quarto as q\n"
            "q._ensure_quarto = lambda: None   # processing needs no Quarto; rendering (make docs) does\n"
            "q.nbdev_proc_nbs.__wrapped__()\n")
    res = subprocess.run([sys.executable, '-c', code], cwd=work, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    return work/'_proc'

def outputs(nb):
    for c in nb['cells']: yield from c.get('outputs', [])

def test_processing_covers_every_notebook(processed):
    for rel in notebooks(): assert (processed/rel).exists(), rel
    assert (processed/'_quarto.yml').exists() and (processed/'sidebar.yml').exists()

def test_every_public_name_is_on_its_api_page(processed):
    from gradclip._modidx import d
    missing, checked = [], 0
    for mod, syms in d['syms'].items():
        module = importlib.import_module(mod)
        public = set(getattr(module, '__all__', []))
        # nbdev writes the source notebook into each module's header: "File to edit: ../nbs/01_callback.ipynb"
        nb = re.search(r'File to edit: (?:\.\./)+nbs/(\S+\.ipynb)', Path(module.__file__).read_text()).group(1)
        md = '\n'.join(''.join(o.get('data', {}).get('text/markdown', '')) for o in outputs(json.loads((processed/nb).read_text())))
        for full in syms:
            name = full[len(mod) + 1:]
            if name not in public and not name.startswith('Learner.'): continue
            checked += 1
            if not re.search(rf'^#+ {re.escape(name)}\s*$', md, re.M): missing.append(f'{name} ({nb})')
    assert checked > 30 and not missing, 'no show_doc entry for: ' + ', '.join(missing)

def test_tutorial_pages_keep_their_figures(processed):
    tutorials = sorted((processed/'tutorials').glob('*.ipynb'))
    assert len(tutorials) == 6
    for p in tutorials:
        outs = list(outputs(json.loads(p.read_text())))
        pngs = [o for o in outs if 'image/png' in o.get('data', {})]
        assert len(pngs) >= 3, f'{p.name}: {len(pngs)} figures in the saved outputs'
        assert not [o for o in outs if WIDGET in o.get('data', {}) and 'image/png' not in o['data']], \
            f'{p.name}: a widget output without a PNG would render blank on the site'
        assert not [o for o in outs if o.get('output_type') == 'error'], f'{p.name}: saved with an error output'

@pytest.mark.parametrize('notebook', sorted((NBS/'tutorials').glob('*.ipynb')), ids=lambda p: p.stem)
def test_tutorial_test_cells_are_collapsed(notebook):
    "A learner sees prose, code and results: each `#| hide` check is collapsed in JupyterLab (and still runs)"
    cells = json.loads(notebook.read_text())['cells']
    open_checks = [c['id'] for c in cells if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| hide')
                   and not c['metadata'].get('jupyter', {}).get('source_hidden')]
    assert not open_checks, f"{notebook.name}: set metadata jupyter.source_hidden on the `#| hide` cells {open_checks}"

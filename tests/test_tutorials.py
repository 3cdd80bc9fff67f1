"""Every tutorial's saved outputs are what a fresh run prints: each one is re-executed in a new kernel (as
`tools/run_notebooks.py` and `nbdev-test` run it) and the numbers in its text outputs — printed lines, results,
fastai's epoch tables — are compared with the committed ones. Wall-clock columns and timings are left out.

Each tutorial sets `torch.set_num_threads(1)` itself and seeds every run, so a fresh run — the test's, or the
learner's in JupyterLab — repeats the saved one digit for digit on a machine that computes like the one that saved
it (the kernel gets no special environment here: what is tested is what the learner runs). Another CPU (other SIMD
paths, another BLAS) rounds differently, and a diverging run amplifies that until a step count or an accuracy
differs: no tolerance makes such numbers comparable. So `tools/run_notebooks.py` records, for each tutorial, the
fingerprint of the machine that saved it (`tools/numerics.py`: a hash of the exact bits of a chaotic little
training and the kernels the tutorials use) in `tests/saved_outputs.json`, and the comparison runs where this
machine's fingerprint is the same; elsewhere the test says why it is skipped. The claims in the prose do not rest on
it: each tutorial's hidden checks (run by nbdev-test on any machine) check them over seeds, as ranges.

Numbers are compared with a small tolerance all the same: a relative one (`RTOL`, 0.1%; set GRADCLIP_TUTORIAL_RTOL
to change it), or one unit in the last printed digit of a float, whichever is larger. Integers (steps, counts)
must match up to RTOL alone.

Slow (10 to 50 s per tutorial on 2 cores): `pytest tests/test_tutorials.py`, or `-k 03` for one.
"""
import functools, html.parser, json, math, os, re, subprocess, sys
from pathlib import Path
import nbformat, pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))
RTOL = float(os.environ.get('GRADCLIP_TUTORIAL_RTOL', 1e-3))
sys.path.insert(0, str(ROOT/'tools'))
from numerics import SAVED_ON, fingerprint, saved_on, same_numbers

@functools.cache
def here() -> dict: return fingerprint()       # in this process, whose environment the kernels inherit

def describe(f:dict) -> str: return f"{f['cpu']}, PyTorch {f['torch']} ({f['cpu_capability']} kernels), numbers {f['probe']}"

# --- what a cell prints, as text --------------------------------------------------------------------------------------
class _Table(html.parser.HTMLParser):
    "Rows of the HTML tables in an output (fastai's epoch table), cell by cell"
    def __init__(self):
        super().__init__(); self.rows, self._cell = [], None
    def handle_starttag(self, tag, attrs):
        if tag == 'tr': self.rows.append([])
        elif tag in ('td', 'th'): self._cell = ''
    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self._cell is not None: self.rows[-1].append(self._cell.strip()); self._cell = None
    def handle_data(self, data):
        if self._cell is not None: self._cell += data

def table_text(html_src:str) -> str:
    "An HTML table as lines of text, without its 'time' column"
    p = _Table(); p.feed(html_src)
    rows = [r for r in p.rows if r]
    if not rows: return ''
    drop = {i for i, h in enumerate(rows[0]) if h.lower() == 'time'}
    return '\n'.join(' | '.join(c for i, c in enumerate(r) if i not in drop) for r in rows)

_OBJ = re.compile(r'^<.* at 0x[0-9a-f]+>$|^Demo\(children=')   # reprs that hold an address or a widget tree

def printed(cell) -> str:
    "What a code cell shows as text: stdout, results and tables (figures, widgets and stderr left out)"
    parts = []
    for o in cell.get('outputs', []):
        if o.output_type == 'stream':
            if o.name == 'stdout': parts.append(o.text)
        elif o.output_type in ('execute_result', 'display_data'):
            d = o.get('data', {})
            if 'text/html' in d and '<table' in d['text/html']: parts.append(table_text(d['text/html']))
            elif 'image/png' not in d and 'text/plain' in d and not _OBJ.match(d['text/plain']): parts.append(d['text/plain'])
        elif o.output_type == 'error': parts.append(f"{o.ename}: {o.evalue}")
    return '\n'.join(parts)

# --- comparing it ---------------------------------------------------------------------------------------------------
_TIMING = re.compile(r'\d+(?:\.\d+)?\s*(?:ms|µs|s)\b|\b\d\d:\d\d\b')      # "1.3 s", "12 ms", "00:00": wall clock
_NUM = re.compile(r'[-+−]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|nan|inf', re.I)

def tokens(text:str) -> list:
    "The text cut into words and numbers; numbers as (value, size of one unit in their last printed digit)"
    out, pos = [], 0
    text = _TIMING.sub('<time>', text)
    for m in _NUM.finditer(text):
        out += text[pos:m.start()].split()
        s = m.group().replace(',', '').replace('−', '-')
        mant = re.split('e', s, flags=re.I)[0]
        exp = int(re.split('e', s, flags=re.I)[1]) if re.search('e', s, re.I) else 0
        if '.' in mant or re.search('e', s, re.I):        # a rounded float: one unit in its last printed digit
            unit = 10.0 ** (exp - (len(mant.split('.')[1]) if '.' in mant else 0))
        else: unit = 0.0                                    # an integer (a step, a count): exact, up to RTOL
        out.append((float(s), unit))
        pos = m.end()
    return out + text[pos:].split()

def close(a:tuple, b:tuple, rtol:float=RTOL) -> bool:
    (x, ux), (y, uy) = a, b
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y): return (x == y) or (math.isnan(x) and math.isnan(y))
    return abs(x - y) <= max(rtol * max(abs(x), abs(y)), 1.001 * max(ux, uy))

def differences(saved:str, fresh:str, rtol:float=RTOL) -> list[str]:
    "Where two printouts disagree: words must be equal, numbers within tolerance"
    a, b = tokens(saved), tokens(fresh)
    if len(a) != len(b): return [f'different shape:\n  saved: {saved!r}\n  fresh: {fresh!r}']
    bad = []
    for s, f in zip(a, b):
        if isinstance(s, tuple) and isinstance(f, tuple):
            if not close(s, f, rtol): bad.append(f'{s[0]:g} saved, {f[0]:g} fresh')
        elif s != f: bad.append(f'{s!r} saved, {f!r} fresh')
    return bad

# --- running a notebook ---------------------------------------------------------------------------------------------
def execute(path:Path, timeout:int=600):
    "A fresh-kernel run of the notebook at `path` (not saved), `#| eval: false` cells skipped as nbdev-test does"
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'code' and any(l.replace(' ', '') == '#|eval:false' for l in c.source.splitlines()):
            c.metadata.setdefault('tags', []).append('skip-execution')
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', skip_cells_with_tag='skip-execution',
                            resources={'metadata': {'path': str(path.parent)}})
    client.execute(env=env)
    return nb

@pytest.mark.parametrize('path', TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_saved_outputs_are_what_a_fresh_run_prints(path):
    where = saved_on().get(path.name)
    assert where, f'{path.name} is not in {SAVED_ON.name}: save its outputs with tools/run_notebooks.py'
    if not same_numbers(where, here()):
        pytest.skip(f"{path.name}'s outputs were saved on a machine that computes differently ({describe(where)}; here: "
                    f"{describe(here())}), so its diverging runs print other numbers here; its hidden checks (nbdev-test) "
                    f"still check every claim. To compare here, re-save it: tools/run_notebooks.py {path.relative_to(ROOT)}")
    saved = nbformat.read(path, as_version=4)
    fresh = execute(path)
    assert len(saved.cells) == len(fresh.cells)
    bad = []
    for i, (s, f) in enumerate(zip(saved.cells, fresh.cells)):
        if s.cell_type != 'code': continue
        diffs = differences(printed(s), printed(f))
        if diffs: bad.append(f'cell {i} ({s.source.splitlines()[0][:60] if s.source else ""}): ' + '; '.join(diffs[:6]))
    assert not bad, f'{path.name}: saved outputs differ from a fresh run (re-run tools/run_notebooks.py on it):\n' + '\n'.join(bad)

def test_number_tokens():       # the comparison itself
    assert differences('loss 0.880, 100% of steps', 'loss 0.881, 100% of steps') == []
    assert differences('loss 0.88', 'loss 0.90') != []
    assert differences('took 1.3 s at step 36', 'took 2.9 s at step 36') == []
    assert differences('at step 36', 'at step 37') != []
    assert differences('×135,174 measured', '×135,190 measured') == []      # within 0.1%
    assert differences('2^19 fits', '2^20 fits') != []
    assert differences('2.6e-04', '2.7e-04') == []                          # one unit in the last digit
    assert table_text('<table><tr><th>epoch</th><th>time</th></tr><tr><td>0</td><td>00:01</td></tr></table>') == 'epoch\n0'

def test_every_tutorial_says_where_its_outputs_were_saved():
    assert sorted(saved_on()) == sorted(p.name for p in TUTORIALS)
    assert all(set(f) == set(here()) for f in saved_on().values())

def test_the_fingerprint_sees_other_rounding():
    "The same machine gives the same fingerprint; PyTorch's portable kernels (no SIMD), which round differently, another"
    run = lambda **env: json.loads(subprocess.run([sys.executable, str(ROOT/'tools'/'numerics.py')], capture_output=True,
                                                  text=True, check=True, env={**os.environ, **env}).stdout)
    assert run() == here()
    if here()['cpu_capability'] == 'DEFAULT': pytest.skip('PyTorch already runs its portable kernels here')
    other = run(ATEN_CPU_CAPABILITY='default')
    assert other['cpu_capability'] == 'DEFAULT' and not same_numbers(other, here())

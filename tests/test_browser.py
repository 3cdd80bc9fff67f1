"""Every tutorial in JupyterLab, in a real browser (headless Chromium driven by playwright, on a 2x HiDPI screen).

JupyterLab starts from the installed project on a free loopback port with a token. Each tutorial is opened — which
must not mark it modified — its outputs cleared, and all cells run; then: no cell has an error output, no widget
failed to render ("Error displaying widget"), every demo shows its figure, and moving a slider redraws that demo's
figure.

Then every demo is driven as a learner drives it, with the mouse: each slider dragged (over a quarter of a second)
to a quarter and three quarters of its track and back, each dropdown set to each option and back, a Run button clicked. For every move the
time from the release (mouse up, option chosen, button clicked) to the last new figure painted is measured in the
page (0 when the demo kept up with the drag, so that the final figure was on screen at the release), and the table goes to build/demo_latency.csv (one row per move) and build/demo_latency.md (p50/p90/worst per
demo), with, for a Run-button demo, the time it promised beside the button. Latency depends on the machine and its
load: it is recorded, never asserted (see bench/bench_demos.py).
Screenshots of each notebook and of each demo at its default go to build/screenshots/ for review.

Uses the system's Chromium or Chrome (Debian's `chromium` package, which `make test` installs where CI is set); a
browser is never downloaded. Where none is installed and CI is unset (a laptop, say), the whole module is skipped
with a message saying so; where CI is set, a missing browser is a failure.
"""
import csv, json, os, re, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT/'build'
SHOTS = BUILD/'screenshots'
TUTORIALS = sorted((ROOT/'nbs'/'tutorials').glob('*.ipynb'))
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-dev-shm-usage']

MACOS_CHROME = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'

def find_chromium() -> str|None:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if path := shutil.which(name): return path
    return MACOS_CHROME if Path(MACOS_CHROME).exists() else None

if find_chromium() is None and not os.environ.get('CI'):
    pytest.skip('no Chromium or Chrome found and CI is unset: the browser test is skipped. Install Chromium '
                '(Debian/Ubuntu: apt-get install chromium) to run it; with CI=true, `make test` installs it.', allow_module_level=True)

def chromium() -> str:
    if path := find_chromium(): return path
    pytest.fail("No Chromium found: with CI set, `make test` installs Debian's chromium package (apt-get install chromium)")

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _up(base, token) -> bool:
    try: urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); return True
    except OSError: return False

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "JupyterLab on a copy of nbs/, so running the tutorials never rewrites the repository's notebooks"
    tmp = tmp_path_factory.mktemp('lab')
    shutil.copytree(ROOT/'nbs', tmp/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    settings = tmp/'settings'/'@jupyterlab'/'notebook-extension'
    settings.mkdir(parents=True)
    # render every cell, not only those in view, so the whole notebook's widgets can be checked
    (settings/'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    (tmp/'settings'/'@jupyterlab'/'apputils-extension').mkdir(parents=True)     # no news prompt over the screenshots
    (tmp/'settings'/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false'}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTERLAB_SETTINGS_DIR': str(tmp/'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp/'ws'),
           'JUPYTER_CONFIG_DIR': str(tmp/'config'), 'JUPYTER_RUNTIME_DIR': str(tmp/'runtime'), 'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    log = open(tmp/'lab.log', 'w')
    # tools/lab_config.py, as `make lab` uses it: notebooks open without being marked modified
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', f'--config={ROOT/"tools"/"lab_config.py"}', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                             '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp/"nbs"}',
                             '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=',
                             '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
                            + (['--allow-root'] if os.geteuid() == 0 else []),     # CI runs as root
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            if proc.poll() is not None: break
            try:
                urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        if proc.poll() is not None or not _up(base, token): pytest.fail('JupyterLab did not start:\n' + (tmp/'lab.log').read_text()[-3000:])
        yield base, token
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()

@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), headless=True, args=FLAGS)
        yield b
        b.close()

NOTEBOOK = 'window.jupyterapp.shell.currentWidget'
KERNEL_READY = f'() => {{ if (!window.jupyterapp) return false; const nb = {NOTEBOOK}; return !!(nb && nb.content && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel && nb.sessionContext.session.kernel.status === "idle"); }}'
ALL_RUN = f'''() => {{
    const nb = {NOTEBOOK};
    const cells = nb.content.widgets.filter(c => c.model.type === 'code');
    return nb.sessionContext.session.kernel.status === 'idle' &&
           cells.every(c => c.model.executionCount !== null && !(c.promptNode && c.promptNode.textContent.includes('*')));
}}'''
ERRORS = f'''() => {NOTEBOOK}.content.widgets.filter(c => c.model.type === 'code')
    .flatMap(c => c.model.outputs.toJSON()).filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)'''
# the first demo driven by a slider (not a Run button): the output area holding both a slider and the demo's image
MARK_DEMO = '''() => {
    for (const out of document.querySelectorAll('.jp-OutputArea-output')) {
        const handle = out.querySelector('.widget-slider .noUi-handle');
        const img = out.querySelector('img');
        const run = [...out.querySelectorAll('button')].some(b => b.textContent.trim() === 'Run');
        if (handle && img && !run) { out.setAttribute('data-test-demo', '1'); return true; }
    }
    return false;
}'''
IMG_SRC = '() => document.querySelector("[data-test-demo] img").src'

DIRTY = f'() => {NOTEBOOK}.context.model.dirty'
# every demo's output area: a widget box holding a figure and at least one control; numbered in notebook order
MARK_DEMOS = """() => {
    const nb = window.jupyterapp.shell.currentWidget;
    const found = [];
    for (const out of document.querySelectorAll('.jp-OutputArea-output')) {
        const img = out.querySelector('.jupyter-widgets img');
        const controls = out.querySelectorAll('.widget-slider .noUi-handle, .widget-dropdown select, button');
        if (!img || !controls.length) continue;
        out.setAttribute('data-demo', String(found.length));
        const cell = nb.content.widgets.find(c => c.node.contains(out));
        const src = cell ? cell.model.sharedModel.getSource() : '';
        const calls = [...src.matchAll(/([A-Za-z_][A-Za-z0-9_]*_demo)\\(/g)].map(m => m[1]);
        found.push(calls.length ? calls[calls.length - 1] : 'demo');
    }
    return found;
}"""
# time stamps in the page: the last release (pointer up, or an option chosen), and every figure painted after a load
INSTRUMENT = """() => {
    if (window.__lat) return;
    window.__lat = {release: null, paints: [], busy: 0, idle: 0};
    window.jupyterapp.shell.currentWidget.sessionContext.statusChanged.connect((_, status) => {
        if (status === 'busy') window.__lat.busy = performance.now();
        if (status === 'idle') window.__lat.idle = performance.now(); });
    document.addEventListener('pointerup', () => { window.__lat.release = performance.now(); }, true);
    document.addEventListener('change', e => { if (e.target.tagName === 'SELECT') window.__lat.release = performance.now(); }, true);
    // any demo figure that loads (listened for on the document: a widget view may replace its <img>); two animation
    // frames after the load, the frame showing the new image has been painted
    document.addEventListener('load', e => {
        if (e.target.tagName === 'IMG' && e.target.closest('[data-demo]'))
            requestAnimationFrame(() => requestAnimationFrame(() => window.__lat.paints.push(performance.now())));
    }, true);
}"""
# settled: the kernel has been idle, and no figure painted, for 0.8 s since the release; and the kernel has been busy
# since the release unless the figure was already painted during the drag
SETTLED = f"""() => {{
    const l = window.__lat, now = performance.now();
    if (l.release === null) return false;
    const idle = {NOTEBOOK}.sessionContext.session.kernel.status === 'idle';
    const last = Math.max(l.release, l.idle, ...l.paints);
    const started = l.busy > l.release || l.paints.length > 0 || now - l.release > 10000;
    return idle && started && now - last > 800;
}}"""
# ms: release → the last figure painted after it; 0 when the demo had kept up during the drag and the figure on
# screen at the release was already the final one. Also: figures painted after the release, and in all
RESULT = """() => { const l = window.__lat, after = l.paints.filter(t => t > l.release);
                     return [after.length ? after[after.length - 1] - l.release : 0, after.length, l.paints.length]; }"""

DRAG_STEPS, DRAG_STEP_MS = 10, 25     # a drag as a hand makes it: ten moves over a quarter of a second, then release

def _moves(page, demo):
    """Yield (control, target, action) for every move a learner would make on this demo's controls; action() makes the
    move (and presses Run, in a demo that has a Run button) and returns whether a control's value changed"""
    runs = [b for b in (demo.locator('button').nth(i) for i in range(demo.locator('button').count()))
            if b.inner_text().strip() == 'Run']
    def press():
        "In a Run-button demo: once the kernel has the new value, note the time it promises, then press Run"
        if not runs: return
        page.wait_for_function(f"() => {NOTEBOOK}.sessionContext.session.kernel.status === 'idle'", polling=50)
        page.wait_for_timeout(300)
        promise = demo.get_by_text('a run takes about')
        demo.evaluate('(el, text) => el.setAttribute("data-promise", text)', promise.inner_text() if promise.count() else '')
        runs[0].click()
    for i in range(demo.locator('.widget-slider').count()):
        s = demo.locator('.widget-slider').nth(i)
        label = s.locator('.widget-label').first.inner_text().strip()
        handle, track, readout = s.locator('.noUi-handle').first, s.locator('.noUi-target').first, s.locator('.widget-readout').first
        h, box = handle.bounding_box(), track.bounding_box()
        start = (h['x'] + h['width'] / 2 - box['x']) / box['width']      # where the handle starts, on its track
        for frac in (0.25, 0.75, start):
            def drag(frac=frac):
                before = readout.inner_text()
                box, h = track.bounding_box(), handle.bounding_box()    # where they are now, after scrolling
                hx, hy = h['x'] + h['width'] / 2, h['y'] + h['height'] / 2
                page.mouse.move(hx, hy); page.mouse.down()
                tx = box['x'] + frac * box['width']
                for k in range(1, DRAG_STEPS + 1):          # at a hand's pace: a quarter of a second across
                    page.mouse.move(hx + (tx - hx) * k / DRAG_STEPS, hy); page.wait_for_timeout(DRAG_STEP_MS)
                page.mouse.up()
                if readout.inner_text() == before: return False   # landed where it started: nothing to show
                press()
                return True
            yield label, 'back to the start' if frac == start else f'{frac:.0%} of the track', drag
    for i in range(demo.locator('.widget-dropdown select').count()):
        sel = demo.locator('.widget-dropdown select').nth(i)
        label = demo.locator('.widget-dropdown').nth(i).locator('.widget-label').first.inner_text().strip()
        labels = sel.locator('option').evaluate_all('os => os.map(o => o.textContent)')
        start = sel.evaluate('s => s.options[s.selectedIndex].textContent')
        for text in [o for o in labels if o != start][:3] + [start]:
            def choose(text=text, sel=sel):
                sel.select_option(label=text); press(); return True
            yield label, text, choose

def shoot_demos(page, notebook) -> list[str]:
    "Number the notebook's demos and take a screenshot of each, as it is after running (at its defaults)"
    names = page.evaluate(MARK_DEMOS)
    for i, name in enumerate(names):
        demo = page.locator(f'[data-demo="{i}"]')
        demo.scroll_into_view_if_needed(); page.wait_for_timeout(300)
        demo.screenshot(path=SHOTS/f'{notebook.stem}_demo{i}_{name}.png')
    return names

def time_demos(page, notebook, names:list[str]) -> list[dict]:
    "Drive every demo of the open notebook with the mouse; one row per move: release → last new figure painted"
    page.evaluate(INSTRUMENT)
    rows = []
    for i, name in enumerate(names):
        demo = page.locator(f'[data-demo="{i}"]')
        for control, target, act in _moves(page, demo):
            page.evaluate('() => { window.__lat.release = null; window.__lat.paints = []; window.__lat.busy = 0; }')
            demo.scroll_into_view_if_needed()
            if not act(): continue              # the drag landed on the value it started from: nothing to redraw
            page.wait_for_function(SETTLED, timeout=60_000, polling=50)
            ms, paints, painted = page.evaluate(RESULT)
            promise = re.findall(r'[\d.]+', demo.get_attribute('data-promise') or '')
            rows.append(dict(tutorial=notebook.stem, demo=f'{i}:{name}', control=control, target=target,
                             ms=round(ms), figures_painted=paints, figures_in_all=painted,
                             promised_ms=round(1000 * float(promise[0])) if promise else ''))
    return rows

LATENCY: list[dict] = []

def write_latency_table(rows):
    "build/demo_latency.csv (every move) and build/demo_latency.md (p50/p90/worst per demo)"
    import numpy as np
    BUILD.mkdir(exist_ok=True)
    with open(BUILD/'demo_latency.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    lines = [f'Slider release → new figure painted, in JupyterLab in headless Chromium ({os.cpu_count()} CPUs, load '
             f"average {os.getloadavg()[0]:.2f} at the end).", '',
             '| tutorial | demo | moves | p50 ms | p90 ms | worst ms | moves already painted at release | moves that painted 2+ figures after it | Run: time shown kept |',
             '|---|---|---|---|---|---|---|---|---|']
    by = {}
    for r in rows: by.setdefault((r['tutorial'], r['demo']), []).append(r)
    for (tut, demo), rs in by.items():
        ms = [r['ms'] for r in rs]
        promised = [r for r in rs if r['promised_ms'] != '']
        kept = f"{sum(r['ms'] <= r['promised_ms'] for r in promised)} of {len(promised)}" if promised else ''
        lines.append(f"| {tut} | {demo} | {len(rs)} | {np.percentile(ms, 50):.0f} | {np.percentile(ms, 90):.0f} | "
                     f"{max(ms):.0f} | {sum(r['figures_painted'] == 0 for r in rs)} | {sum(r['figures_painted'] > 1 for r in rs)} | {kept} |")
    (BUILD/'demo_latency.md').write_text('\n'.join(lines) + '\n')

@pytest.mark.parametrize('notebook', TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_jupyterlab(lab, browser, notebook):
    base, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={'width': 1400, 'height': 1000}, device_scale_factor=2)
    try:
        page.goto(f'{base}/lab/tree/tutorials/{notebook.name}?token={token}&reset', wait_until='domcontentloaded')
        for _ in range(240):     # accept a kernel-selection dialog if Lab shows one, then wait for an idle kernel
            if page.locator('.jp-Dialog .jp-mod-accept').count(): page.locator('.jp-Dialog .jp-mod-accept').first.click()
            if page.evaluate(KERNEL_READY): break
            page.wait_for_timeout(500)
        else: pytest.fail(f'{notebook.name}: the kernel never became ready')
        page.wait_for_timeout(2000)      # what JupyterLab rewrites on opening (kernel metadata, say) happens by now
        dirty_on_open = page.evaluate(DIRTY)
        page.screenshot(path=SHOTS/f'{notebook.stem}_opened.png')
        page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
        t0 = time.time()
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_timeout(1000)
        page.wait_for_function(ALL_RUN, timeout=300_000, polling=1000)
        took = time.time() - t0
        page.wait_for_timeout(1500)    # let the last widget views render
        page.screenshot(path=SHOTS/f'{notebook.stem}_top.png')

        assert page.evaluate(ERRORS) == [], f'{notebook.name}: cells raised errors'
        text = page.evaluate('document.body.innerText')
        assert 'Error displaying widget' not in text and 'model not found' not in text, f'{notebook.name}: a widget did not render'
        n_views = page.evaluate("document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length")
        assert n_views > 0, f'{notebook.name}: no widget rendered'
        blank = page.evaluate("[...document.querySelectorAll('.jp-OutputArea-output img')].filter(i => !i.complete || i.naturalWidth === 0).length")
        assert blank == 0, f'{notebook.name}: {blank} figure(s) did not load'

        # test scaffolding (`#| hide` cells) is collapsed for the learner, and ran all the same (ALL_RUN above)
        cells = json.loads(notebook.read_text())['cells']
        hidden_in_file = sum(c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| hide') for c in cells)
        collapsed = page.evaluate(f"() => {NOTEBOOK}.content.widgets.filter(c => c.model.type === 'code' && c.inputHidden).length")
        assert collapsed == hidden_in_file, f'{notebook.name}: {collapsed} collapsed cells, {hidden_in_file} `#| hide` cells'
        if collapsed:
            first = page.locator('.jp-CodeCell.jp-mod-collapsed, .jp-CodeCell:has(.jp-InputPlaceholder)').first
            if first.count(): first.scroll_into_view_if_needed(); page.screenshot(path=SHOTS/f'{notebook.stem}_collapsed.png')
        names = shoot_demos(page, notebook)
        assert page.evaluate(MARK_DEMO), f'{notebook.name}: no slider-driven demo found'
        demo = page.locator('[data-test-demo]')
        demo.scroll_into_view_if_needed()
        before = page.evaluate(IMG_SRC)
        handle = demo.locator('.widget-slider .noUi-handle').first
        handle.focus()
        for key in ('ArrowRight', 'ArrowRight', 'ArrowRight', 'PageUp'): handle.press(key)
        page.wait_for_function(f'(before) => ({IMG_SRC})() !== before', arg=before, timeout=30_000)

        rows = time_demos(page, notebook, names)
        assert rows and all(r['figures_in_all'] > 0 for r in rows), \
            f'{notebook.name}: a move painted no new figure: ' + str([r for r in rows if not r['figures_in_all']])
        LATENCY.extend(rows); write_latency_table(LATENCY)
        print(f'{notebook.name}: ran in {took:.0f} s in JupyterLab; {n_views} widget views; {len(rows)} demo moves timed')
        assert not dirty_on_open, f'{notebook.name}: opening it marked it modified'
    finally:
        page.close()

def test_gradclip_tutorials_opens_notebooks_unmodified(browser, tmp_path):
    "What a pip user runs: `gradclip tutorials` copies the notebooks so that opening one in JupyterLab changes nothing"
    sys.path.insert(0, str(Path(__file__).parent))
    from lab import wait_for_url
    script = Path(sys.executable).parent/'gradclip'
    port, work, config = free_port(), tmp_path/'work', tmp_path/'config'
    work.mkdir(); config.mkdir()
    # the test needs window.jupyterapp; it comes from the test's own Jupyter config, not from the command's flags
    (config/'jupyter_server_config.json').write_text(json.dumps({'LabApp': {'expose_app_in_browser': True, 'news_url': ''}}))
    env = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY', 'PYTHONPATH')}
    env.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'ws'), JUPYTERLAB_SETTINGS_DIR=str(tmp_path/'settings'))
    proc = subprocess.Popen([str(script), 'tutorials', 'mine', f'--port={port}', '--no-browser'], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    try:
        url, out = wait_for_url(proc, rf'(http://127\.0\.0\.1:{port}/lab/tree/01_exploding\.ipynb\?token=[0-9a-f]+)')
        assert url, 'gradclip tutorials printed no URL:\n' + ''.join(out[-40:])
        token = url.split('token=')[1]
        for name in ('01_exploding.ipynb', '05_choosing.ipynb'):
            page.goto(f'http://127.0.0.1:{port}/lab/tree/{name}?token={token}&reset', wait_until='domcontentloaded')
            for _ in range(240):
                if page.locator('.jp-Dialog .jp-mod-accept').count(): page.locator('.jp-Dialog .jp-mod-accept').first.click()
                if page.evaluate(KERNEL_READY): break
                page.wait_for_timeout(500)
            else: pytest.fail(f'{name}: the kernel never became ready')
            page.wait_for_timeout(2000)      # what JupyterLab rewrites on opening happens by now
            assert page.evaluate(f'() => {NOTEBOOK}.context.path') == name
            assert not page.evaluate(DIRTY), f'{name} shows as modified as soon as it is opened'
    finally:
        page.close()
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: proc.wait(30)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)

"""Every tutorial in JupyterLab, in a real browser (headless Chromium driven by playwright).

JupyterLab starts from the installed project on a free loopback port with a token. Each tutorial is opened, its
outputs cleared, and all cells run; then: no cell has an error output, no widget failed to render ("Error
displaying widget"), every demo shows its figure, and moving a slider with the keyboard redraws that demo's figure.
Screenshots of each notebook and of the slider demo before and after the move go to build/screenshots/ for review.

Uses the system's Chromium or Chrome (Debian's `chromium` package, which `make test` installs where CI is set); a
browser is never downloaded. Where none is installed and CI is unset (a laptop, say), the whole module is skipped
with a message saying so; where CI is set, a missing browser is a failure.
"""
import json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT/'build'/'screenshots'
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
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
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

@pytest.mark.parametrize('notebook', TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_jupyterlab(lab, browser, notebook):
    base, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    try:
        page.goto(f'{base}/lab/tree/tutorials/{notebook.name}?token={token}&reset', wait_until='domcontentloaded')
        for _ in range(240):     # accept a kernel-selection dialog if Lab shows one, then wait for an idle kernel
            if page.locator('.jp-Dialog .jp-mod-accept').count(): page.locator('.jp-Dialog .jp-mod-accept').first.click()
            if page.evaluate(KERNEL_READY): break
            page.wait_for_timeout(500)
        else: pytest.fail(f'{notebook.name}: the kernel never became ready')
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

        assert page.evaluate(MARK_DEMO), f'{notebook.name}: no slider-driven demo found'
        demo = page.locator('[data-test-demo]')
        demo.scroll_into_view_if_needed()
        demo.screenshot(path=SHOTS/f'{notebook.stem}_demo_before.png')
        before = page.evaluate(IMG_SRC)
        handle = demo.locator('.widget-slider .noUi-handle').first
        handle.focus()
        for key in ('ArrowRight', 'ArrowRight', 'ArrowRight', 'PageUp'): handle.press(key)
        page.wait_for_function(f'(before) => ({IMG_SRC})() !== before', arg=before, timeout=30_000)
        page.wait_for_timeout(500)
        demo.screenshot(path=SHOTS/f'{notebook.stem}_demo_after.png')
        print(f'{notebook.name}: ran in {took:.0f} s in JupyterLab; {n_views} widget views; slider moved the figure')
    finally:
        page.close()

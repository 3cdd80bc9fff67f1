"""`gradclip tutorials`, the console script a pip user runs: copies the notebooks, then JupyterLab on them, on loopback,
behind a token, opening on the first tutorial; and JupyterLab is the script's own process, so stopping it stops them.

Runs the installed script (the `gradclip` beside this Python) on a free port in a temporary folder, as
tests/test_make_lab.py does for `make lab`, and always stops it. The copying rules are tested in nbs/10_cli.ipynb.
"""
import os, re, signal, subprocess, sys, urllib.error, urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lab import free_port, wait_for_url, check_served

SCRIPT = Path(sys.executable).parent/('gradclip.exe' if os.name == 'nt' else 'gradclip')

def test_gradclip_tutorials_copies_the_notebooks_and_serves_them_on_loopback_behind_a_token(tmp_path):
    assert SCRIPT.exists(), f'no console script at {SCRIPT}: reinstall gradclip (pip install -e ".[dev]")'
    port, work = free_port(), tmp_path/'work'
    (work/'mine').mkdir(parents=True)
    edited = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    (work/'mine'/'02_cliff.ipynb').write_bytes(edited)          # a learner's own version: must survive
    env = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY', 'PYTHONPATH')}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path/'config'), JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path/'ws'))
    proc = subprocess.Popen([str(SCRIPT), 'tutorials', 'mine', f'--port={port}', '--no-browser'], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url, out = wait_for_url(proc, rf'(http://127\.0\.0\.1:{port}/lab/tree/01_exploding\.ipynb\?token=[0-9a-f]+)')
        text = ''.join(out)
        assert url, 'gradclip tutorials printed no URL with a token:\n' + ''.join(out[-40:])
        assert text.startswith('gradclip '), text
        assert re.search(r'kept\s+02_cliff\.ipynb', text) and re.search(r'copied\s+01_exploding\.ipynb', text), text
        assert (work/'mine'/'02_cliff.ipynb').read_bytes() == edited
        token = url.split('token=')[1]
        names = check_served(url, port)
        assert names >= {'01_exploding.ipynb', '02_cliff.ipynb', '03_rnn.ipynb', '04_mixed_precision.ipynb', '05_choosing.ipynb'}, names
        # the script became JupyterLab (exec): the server is its process, and a SIGTERM to it alone stops the server
        assert (tmp_path/'runtime'/f'jpserver-{proc.pid}.json').exists(), sorted(p.name for p in (tmp_path/'runtime').iterdir())
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=5)
            raise AssertionError('JupyterLab still answers after its process was stopped')
        except urllib.error.URLError as e: assert not isinstance(e, urllib.error.HTTPError)
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)     # whatever is left of its process group (kernels included)
        except ProcessLookupError: pass
        try: proc.wait(20)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(10)

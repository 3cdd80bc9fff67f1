"""`make lab`, the README's first command: JupyterLab on nbs/, on loopback, behind a token, opening on the first
tutorial, with the URL printed; and its install step, which rebuilds a venv whose Python is too old.

Runs the real Makefile targets on this test environment (its install is already done by `make test`, so it is
skipped) and on a free port.
"""
import os, re, signal, subprocess, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lab import free_port, wait_for_url, check_served

ROOT = Path(__file__).resolve().parents[1]

def test_make_lab_serves_the_notebooks_on_loopback_behind_a_token():
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY')}
    proc = subprocess.Popen(['make', 'lab', f'PORT={port}', f'VENV={sys.prefix}'], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url, out = wait_for_url(proc, rf'(http://127\.0\.0\.1:{port}/lab/tree/tutorials/01_exploding\.ipynb\?token=[0-9a-f]+)')
        assert url, 'make lab printed no URL with a token:\n' + ''.join(out[-40:])
        names = check_served(url, port)
        assert {'index.ipynb', 'tutorials', '00_core.ipynb'} <= names, names       # serving nbs/
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(20)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL)

def test_make_install_rebuilds_a_venv_whose_python_is_too_old(tmp_path):
    "MIN_PY is raised past every Python, so the venv is too old and so is the Python that would rebuild it"
    venv = tmp_path/'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', venv], check=True, timeout=120)
    res = subprocess.run(['make', 'install', f'VENV={venv}', 'MIN_PY=99.0', f'PYTHON={sys.executable}'], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0
    assert re.search(r'has Python 3\.\d+\.\d+, but gradclip needs Python >= 99\.0: recreating it', res.stdout), res.stdout
    assert 'FAIL: PYTHON=' in res.stdout and 'gradclip needs Python >= 99.0' in res.stdout, res.stdout
    assert not venv.exists()

"""Check that a built wheel and sdist hold what a user needs: every module under gradclip/, py.typed and the tutorials.

    python tools/check_dist.py dist/gradclip-*.whl dist/gradclip-*.tar.gz

The release workflow runs it on the very files it publishes; tests/test_wheel.py on the ones it builds. (twine
check and check-wheel-contents cannot see a missing subpackage: that is how gradclip.demos once went missing.)
"""
import sys, tarfile, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def wheel_files(root=ROOT) -> set[str]:
    "What the wheel must hold under gradclip/: every module nbdev exports, py.typed, tutorial 6's data, and the tutorials package"
    files = {p.relative_to(root).as_posix() for p in (root/'gradclip').rglob('*.py') if '__pycache__' not in p.parts}
    files |= {p.relative_to(root).as_posix() for p in (root/'gradclip'/'demos'/'data').glob('*') if p.suffix in ('.txt', '.json', '.md')}
    files |= {'gradclip/py.typed', 'gradclip/tutorials/__init__.py'}
    return files | {f'gradclip/tutorials/{p.name}' for p in (root/'nbs'/'tutorials').glob('*.ipynb')}

def sdist_files(root=ROOT) -> set[str]:
    "What the sdist must hold (below its top folder): the same, the tutorials where the repository keeps them"
    tut = 'gradclip/tutorials/'
    files = {f if not f.startswith(tut) else 'nbs/tutorials/' + f[len(tut):] for f in wheel_files(root)}
    return files | {'pyproject.toml', 'README.md', 'LICENSE'}

def problems(path, root=ROOT) -> list[str]:
    "What `path` (a .whl or .tar.gz) lacks; for a wheel, also any file under gradclip/ that should not be there"
    path = Path(path)
    if path.name.endswith('.whl'):
        with zipfile.ZipFile(path) as z: got = {n for n in z.namelist() if n.startswith('gradclip/')}
        want = wheel_files(root)
        return [f'missing {f}' for f in sorted(want - got)] + [f'unexpected {f}' for f in sorted(got - want)]
    with tarfile.open(path) as t: got = {n.split('/', 1)[1] for n in t.getnames() if '/' in n}
    return [f'missing {f}' for f in sorted(sdist_files(root) - got)]

if __name__ == '__main__':
    bad = 0
    for p in sys.argv[1:]:
        found = problems(p)
        print(f'{Path(p).name}: ' + ('; '.join(found) if found else f'complete ({Path(p).stat().st_size / 1e3:.0f} kB)'))
        bad += bool(found)
    sys.exit(1 if bad or not sys.argv[1:] else 0)

"""The GitHub workflows: every action pinned to a full commit SHA, read-only by default, and the test matrix that the
README promises (Python 3.10-3.13 on ubuntu, plus macOS)."""
import re
from pathlib import Path
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[1]/'.github'/'workflows').glob('*.y*ml'))

def test_actions_are_pinned_to_commit_shas():
    uses = [(p.name, u) for p in WORKFLOWS for u in re.findall(r'uses:\s*(\S+)', p.read_text())]
    assert uses and not [u for u in uses if not re.fullmatch(r'[\w.-]+/[\w./-]+@[0-9a-f]{40}', u[1])], uses

def test_workflows_are_read_only_unless_a_job_says_otherwise():
    for p in WORKFLOWS:
        assert yaml.safe_load(p.read_text())['permissions'] == {'contents': 'read'}, p.name

def test_test_matrix_covers_python_3_10_to_3_13_and_macos():
    job = yaml.safe_load((WORKFLOWS[0].parent/'test.yaml').read_text())['jobs']['test']
    m = job['strategy']['matrix']
    assert m['python'] == ['3.10', '3.11', '3.12', '3.13'] and m['os'] == ['ubuntu-latest']
    assert any(i['os'].startswith('macos') for i in m['include'])
    steps = job['steps']
    assert any(s.get('with', {}).get('cache') == 'pip' for s in steps)
    assert any(s.get('run') == '.ci/run' for s in steps)

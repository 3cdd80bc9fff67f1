"""gradclip under FSDP2 (`fully_shard`): two ranks (gloo, CPU) launched with torchrun.

`fsdp_worker.py` runs every function and clipper on sharded gradients and on the same gradients unsharded; here the
two ranks' results are compared with each other (they must be identical) and with the unsharded ones (equal to float
rounding). Then the two examples in `examples/` run as a user would run them. Every launch has a timeout, and so has
each process group: a collective that waits forever would hang CI.
"""
import json, math, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from launch import torchrun, HERE, ROOT

def read_ranks(prefix): return [json.loads(Path(f'{prefix}{r}.json').read_text()) for r in range(2)]

@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('fsdp')
    torchrun(HERE/'fsdp_worker.py', out)
    return read_ranks(out/'rank')

def close(a, b, rtol=1e-5) -> bool:
    a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
    return len(a) == len(b) and all(x == y or (math.isnan(x) and math.isnan(y)) or abs(x - y) <= rtol * max(abs(x), abs(y))
                                    for x, y in zip(a, b))

def test_the_probe_is_sharded_as_intended(ranks):
    r0, r1 = ranks
    assert r0['placements'] == ['(Shard(dim=0),)'] * 6 + ['(Replicate(),)', '(Shard(dim=1),)', 'plain']
    assert r0['local_shapes'][4] == [1, 3] and r1['local_shapes'][4] == [0, 3]     # one layer leaves rank 1 empty
    assert r0['local_shapes'][2] == [2, 8] and r1['local_shapes'][2] == [1, 8]     # uneven shards

CASES = ['grad_norm p=1', 'grad_norm p=2', 'grad_norm p=3', 'grad_norm p=inf', 'clip_grad_norm_ p=1', 'clip_grad_norm_ p=2',
         'clip_grad_norm_ p=inf', 'tensor_norms', 'clip_grad_value_', 'clip_grad_agc_', 'NormClipper', 'NormClipper inf',
         'ValueClipper', 'AGCClipper', 'AutoClipper', 'ZClipper']

@pytest.mark.parametrize('case', CASES)
def test_global_norm_on_every_rank_and_unsharded_gradients(ranks, case):
    c0, c1 = (r['cases'][case] for r in ranks)
    assert c0['norm'] == c1['norm'], 'every rank must see the same norm'
    assert close(c0['norm'], c0['unsharded']), (c0['norm'], c0['unsharded'])
    assert max(c0['max_grad_diff'], c1['max_grad_diff']) <= 1e-5
    assert c0['is_plain_tensor'] and c1['is_plain_tensor']
    if case != 'clip_grad_value_':   # that case reports the norm after clipping; every other one, the norm before
        norm = c0['norm'][0] if isinstance(c0['norm'], list) else c0['norm']
        assert norm > 1, 'the gradients are large enough for every method to clip'

@pytest.mark.parametrize('clipper', ['AutoClipper', 'ZClipper'])
def test_adaptive_state_stays_identical_across_ranks_and_equal_to_unsharded(ranks, clipper):
    t0, t1 = (r['training'][clipper] for r in ranks)
    assert t0['sharded'] == t1['sharded'], 'norms, thresholds, state and weights bit-identical on both ranks'
    for s, u in zip(t0['sharded']['steps'], t0['unsharded']['steps']): assert close(s, u), (s, u)
    for s, u in zip(t0['sharded']['weights'], t0['unsharded']['weights']): assert close(s, u, 1e-4)
    steps = t0['sharded']['steps']
    assert sum(n > th for n, th in steps) >= 2, 'the run should exercise clipping'

def test_fsdp1_and_unreduced_gradients_are_refused_clearly(ranks):
    assert ranks[0]['fsdp1_error'].startswith('ValueError') and 'model.clip_grad_norm_' in ranks[0]['fsdp1_error']
    assert ranks[0]['partial_error'].startswith('ValueError') and 'summed across ranks' in ranks[0]['partial_error']

def test_example_plain_pytorch_loop(tmp_path):
    printed = torchrun(ROOT/'examples/fsdp2_clip.py', tmp_path/'run')
    r0, r1 = read_ranks(tmp_path/'run.rank')
    assert r0 == r1 and len(r0['log']) == 8
    assert sum(n > t for n, t in r0['log']) >= 1 and 'step 7: gradient norm' in printed

def test_example_accelerate_loop(tmp_path):
    torchrun(ROOT/'examples/accelerate_fsdp2_clip.py', tmp_path/'run')
    r0, r1 = read_ranks(tmp_path/'run.rank')
    assert r0 == r1 and len(r0['log']) == 8
    for norm, torch_norm, _ in r0['log']: assert close(norm, torch_norm, 1e-6)   # what PyTorch's own function gives

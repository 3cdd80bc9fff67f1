"""gradclip under real multi-process DDP: two ranks (gloo, CPU) launched with torchrun, driven by fastai's distrib_ctx.

fastai's DistributedDL gives rank r the r-th half of the data, batch by batch, and DDP averages the two ranks'
gradients; so both ranks must end with identical weights, equal to one process training on each pair of batches
concatenated. Clipping happens on the averaged gradient, so AutoClip's thresholds must agree across ranks too.
"""
import sys
from pathlib import Path
import pytest, torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from ddp_common import make_learner, items, N_ITEMS, BS_PER_RANK
from launch import torchrun

def reference_run():
    "One process, batch k = rank 0's k-th batch followed by rank 1's k-th batch"
    data, half = items(), N_ITEMS // 2
    combined = [it for k in range(0, half, BS_PER_RANK) for it in data[k:k + BS_PER_RANK] + data[half + k:half + k + BS_PER_RANK]]
    learn = make_learner(bs=2 * BS_PER_RANK, train_items=combined)
    with learn.no_bar(), learn.no_logging(): learn.fit(3, 0.3)
    return learn

@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    torchrun(HERE/'ddp_worker.py', out, timeout=300)
    return [torch.load(out/f'rank{r}.pt') for r in range(2)]

def test_ranks_agree(ranks):
    r0, r1 = ranks
    assert r0['n_steps'] == r1['n_steps'] == 3 * (N_ITEMS // 2 // BS_PER_RANK)
    for a, b in zip(r0['weights'], r1['weights']): assert torch.equal(a, b)
    assert torch.equal(r0['ac_thresholds'], r1['ac_thresholds'])
    assert torch.equal(r0['gc_norms'], r1['gc_norms'])

def test_matches_one_process_on_the_concatenated_batch(ranks):
    ref = reference_run()
    assert (ref.gradient_clip.norms > 0.5).float().mean() > 0.5, "the test should exercise clipping"
    for a, b in zip(ranks[0]['weights'], ref.model.parameters()): torch.testing.assert_close(a, b.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ranks[0]['gc_norms'], ref.gradient_clip.norms, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ranks[0]['ac_thresholds'], ref.auto_clip.thresholds, rtol=1e-5, atol=1e-6)

"""CUDA paths: no host syncs on the per-step paths, and fp16 mixed precision with loss scaling on the GPU.

Skipped without CUDA (the tests must pass on machines without one); run wherever a GPU is available.
`torch.cuda.set_sync_debug_mode('error')` turns every device-to-host synchronization — `.item()`, `float(t)`, a
blocking copy, a branch on a tensor — into an exception, so each call below proves it never waits for the GPU.
"""
import contextlib, math
import pytest, torch
from torch import nn

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')

from gradclip.core import (grad_norm, tensor_norms, clip_grad_norm_, clip_grad_value_, clip_grad_agc_, NormClipper, ValueClipper,
                           AGCClipper, AutoClipper, ZClipper, StepLog)

@contextlib.contextmanager
def no_sync():
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try: yield
    finally: torch.cuda.set_sync_debug_mode('default')

def model_with_grads(dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 30 * 30, 10)).cuda().to(dtype)
    m(torch.randn(4, 3, 32, 32, device='cuda', dtype=dtype)).float().pow(2).mean().backward()
    return m

@pytest.mark.parametrize('dtype', [torch.float32, torch.float16, torch.bfloat16])
def test_functions_make_no_host_sync(dtype):
    m = model_with_grads(dtype)
    with no_sync():
        grad_norm(m.parameters()); grad_norm(m.parameters(), math.inf)
        tensor_norms([p.grad for p in m.parameters()])
        clip_grad_norm_(m.parameters(), math.inf)      # measure only
        clip_grad_norm_(m.parameters(), 1.0)
        clip_grad_value_(m.parameters(), 1e-3)
        clip_grad_agc_(m.parameters(), 0.01)

def test_clippers_make_no_host_sync_step_after_step():
    m = model_with_grads()
    saved = [p.grad.clone() for p in m.parameters()]
    clippers = [NormClipper(1.0), ValueClipper(1e-3), AGCClipper(), AutoClipper(0.9, 20), AutoClipper(0.5, 10_000), ZClipper(warmup_steps=5),
                ZClipper(warmup_steps=5, mode='percentile', max_grad_norm=None)]
    log = StepLog('norm', 'threshold', 'clipped')
    for step in range(30):                                  # past AutoClip's first step and ZClip's warmup
        for c in clippers:
            for p, g in zip(m.parameters(), saved): p.grad.copy_(g * (1 + step % 5))
            with no_sync():
                c(m.parameters())
                log.append(*c.last)
    assert len(log) == 30 * len(clippers) and log.tensor().is_cuda

def test_gradient_clip_callback_makes_no_host_sync_when_ignoring_nonfinite():
    "on_nonfinite='skip' decides on the host whether to take the step: that one bool is its only sync; 'ignore' has none"
    from types import SimpleNamespace
    from gradclip.callback import GradientClip
    m = model_with_grads()
    cb = GradientClip(1.0, on_nonfinite='ignore')
    cb.learn = SimpleNamespace(model=m)
    with no_sync(): cb.before_step()
    assert len(cb.log) == 1

def test_mixed_precision_on_cuda_matches_fastai():
    "gradclip's AnyDeviceMixedPrecision behaves as fastai's MixedPrecision on CUDA: same weights, same loss scales"
    from fastai.basics import Learner, DataLoaders, DataLoader, MSELossFlat, set_seed
    from fastai.callback.fp16 import MixedPrecision
    from gradclip.fp16 import AnyDeviceMixedPrecision
    from gradclip.callback import GradientClip
    def learner(mp):
        set_seed(0, reproducible=True)
        x = torch.randn(256, 16); y = (x @ torch.randn(16, 1)).tanh()
        items = list(zip(x, y))
        dls = DataLoaders(DataLoader(items[:192], bs=32), DataLoader(items[192:], bs=64), device='cuda')
        return Learner(dls, nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1)), loss_func=MSELossFlat(),
                       cbs=[mp, GradientClip(1.0)])
    ours, theirs = learner(AnyDeviceMixedPrecision()), learner(MixedPrecision())
    for l in (ours, theirs):
        with l.no_bar(), l.no_logging(): l.fit(2)
    for a, b in zip(ours.model.parameters(), theirs.model.parameters()): torch.testing.assert_close(a, b)
    # both autocast to fp16 on the GPU
    spy = []
    h = ours.model[0].register_forward_hook(lambda m, i, o: spy.append(o.dtype))
    with ours.no_bar(), ours.no_logging(): ours.fit(1)
    h.remove()
    assert set(spy) >= {torch.float16}

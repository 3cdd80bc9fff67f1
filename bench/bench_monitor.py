"""Overhead of GradientMonitor (default settings) on a real ResNet-50 training step, as a fraction from one run.

A fastai Learner trains ResNet-50 (25.6M parameters) with GradientClip on random 64×64 images. Epochs with and
without the monitor alternate, so drift on a noisy machine hits both alike. Two figures are printed:
- the step-time ratio, median step with the monitor over median step without it;
- the time spent inside the monitor's own event handlers, as a fraction of the median step without it (more
  precise on a noisy machine: it does not depend on two medians agreeing).

    python bench/bench_monitor.py [--rounds 4] [--warmup 1] [--bs 16] [--batches 10]
"""
import argparse, statistics, time, warnings
import torch


warnings.filterwarnings('ignore', category=FutureWarning)

def _learner(device, bs, batches):
    from fastai.basics import Learner, DataLoaders, DataLoader, CrossEntropyLossFlat, SGD, set_seed
    from torchvision.models import resnet50
    from gradclip.callback import GradientClip
    set_seed(0)
    x, y = torch.randn(bs * batches, 3, 64, 64), torch.randint(0, 10, (bs * batches,))
    items = list(zip(x, y))
    dls = DataLoaders(DataLoader(items, bs=bs, shuffle=False), DataLoader(items[:bs], bs=bs), device=device)
    return Learner(dls, resnet50(), CrossEntropyLossFlat(), opt_func=SGD, lr=1e-3, cbs=GradientClip(1.0))

def monitor_step_overhead(device='cpu', rounds=4, warmup=1, bs=16, batches=10):
    from fastai.callback.core import Callback
    from gradclip.monitor import GradientMonitor
    device = torch.device(device)
    sync = (lambda: torch.cuda.synchronize()) if device.type == 'cuda' else (lambda: None)

    class StepTimer(Callback):
        order = 100
        def before_fit(self): self.times = []
        def before_batch(self):
            if self.training: sync(); self.t0 = time.perf_counter()
        def after_batch(self):
            if self.training: sync(); self.times.append(time.perf_counter() - self.t0)

    learn = _learner(device, bs, batches)
    timer, mon = StepTimer(), GradientMonitor()
    # time spent in the monitor's own handlers
    inside = []
    for event in ('before_fit', 'before_step', 'after_step', 'after_cancel_step', 'after_epoch'):
        f = getattr(mon, event)
        def timed(f=f):
            sync(); t0 = time.perf_counter(); f(); sync(); inside.append(time.perf_counter() - t0)
        setattr(mon, event, timed)
    learn.add_cb(timer)
    plain, monitored, inside_per_step = [], [], []
    with learn.no_bar(), learn.no_logging():
        for r in range(warmup + rounds):
            learn.remove_cb(mon); learn.fit(1); t_plain = timer.times[1:]        # the first batch of a fit warms up
            learn.add_cb(mon); inside.clear(); learn.fit(1); t_mon = timer.times[1:]
            if r >= warmup:
                plain += t_plain; monitored += t_mon; inside_per_step.append(sum(inside) / len(timer.times))
    p, m = statistics.median(plain), statistics.median(monitored)
    own = statistics.median(inside_per_step)
    n = sum(q.numel() for q in learn.model.parameters())
    print(f"\nGradientMonitor(every={mon.every}) on a ResNet-50 training step ({n/1e6:.1f}M parameters, batch {bs}×3×64×64, "
          f"{device}, {torch.get_num_threads()} threads; {len(plain)} steps each way after {warmup} warm-up round(s))")
    print(f"  median step without the monitor {p*1e3:8.1f} ms")
    print(f"  median step with the monitor    {m*1e3:8.1f} ms   ratio {m/p:.3f}")
    print(f"  time inside the monitor per step {own*1e3:7.1f} ms   = {own/p:.1%} of a step (goal ≤ 5%: {'met' if own/p <= 0.05 else 'MISSED'})")
    return p, m, own

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=4)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--bs', type=int, default=16)
    ap.add_argument('--batches', type=int, default=10)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = ap.parse_args()
    monitor_step_overhead(a.device, a.rounds, a.warmup, a.bs, a.batches)

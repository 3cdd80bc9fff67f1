"""Per-step cost of gradclip's clipping against the reference implementations, as ratios from one run.

The parameter set is ResNet-50's (25.6M parameters in 161 tensors) with random gradients. Each method is timed on
its own call only (gradients are restored from a copy between calls, outside the timed region), methods are
interleaved round by round so that drift on a noisy machine hits them all alike, and each figure is the median of
`--rounds` calls after `--warmup` untimed ones. A ratio is the median over rounds of the two calls' times in the same
round, so drift on a busy machine cancels out. This is a script that prints numbers, not a test that asserts them.

    python bench/bench_clip.py [--rounds 50] [--warmup 30] [--device cpu|cuda] [--skip-monitor]
"""
import argparse, statistics, sys, time, types, warnings
from pathlib import Path
import torch


warnings.filterwarnings('ignore', category=FutureWarning)

def resnet50_params(device):
    from torchvision.models import resnet50
    torch.manual_seed(0)
    model = resnet50().to(device)
    for p in model.parameters(): p.grad = torch.randn_like(p) * 1e-2
    return model

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def timed_rounds(methods, params, device, rounds, warmup):
    "{name: [seconds per call]}: every method once per round, gradients restored before each call"
    saved = [p.grad.clone() for p in params]
    def restore():
        for p, g in zip(params, saved): p.grad.copy_(g)
    times = {name: [] for name in methods}
    for r in range(warmup + rounds):
        for name, fn in methods.items():
            restore(); sync(device)
            t0 = time.perf_counter(); fn(); sync(device)
            if r >= warmup: times[name].append(time.perf_counter() - t0)
    restore()
    return times

def clip_methods(model):
    "The methods to time, as zero-argument callables that clip the model's gradients once"
    from timm.utils.agc import adaptive_clip_grad
    from autoclip.torch import QuantileClip
    from zclip import ZClip
    from fastai.callback.training import GradientClip as FastaiGradientClip
    from gradclip.core import clip_grad_norm_, clip_grad_value_, clip_grad_agc_, AutoClipper, ZClipper
    from gradclip.callback import GradientClip
    params = list(model.parameters())
    fake_learn = types.SimpleNamespace(model=model, parameters=model.parameters)   # all a clip callback reads
    ours_cb, fastai_cb = GradientClip(1.0), FastaiGradientClip(1.0)
    ours_cb.learn = fastai_cb.learn = fake_learn
    auto_ours, auto_ref = AutoClipper(0.9, 1000), QuantileClip(params, quantile=0.9, history_length=1000, global_threshold=True)
    z_ours, z_ref = ZClipper(), ZClip()
    return {
        'torch clip_grad_norm_':      lambda: torch.nn.utils.clip_grad_norm_(params, 1.0),
        'gradclip clip_grad_norm_':   lambda: clip_grad_norm_(params, 1.0),
        'fastai GradientClip':        fastai_cb.before_step,
        'gradclip GradientClip':      ours_cb.before_step,
        'torch clip_grad_value_':     lambda: torch.nn.utils.clip_grad_value_(params, 1e-3),
        'gradclip clip_grad_value_':  lambda: clip_grad_value_(params, 1e-3),
        'timm adaptive_clip_grad':    lambda: adaptive_clip_grad(params, 0.01),
        'gradclip clip_grad_agc_':    lambda: clip_grad_agc_(params, 0.01),
        'autoclip QuantileClip':      auto_ref.step,
        'gradclip AutoClipper':       lambda: auto_ours(params),
        'zclip ZClip':                lambda: z_ref.step(model),
        'gradclip ZClipper':          lambda: z_ours(params),
    }

GOALS = {  # name: (compared with, the largest acceptable ratio to it)
    'gradclip clip_grad_norm_': ('torch clip_grad_norm_', 1.05),
    'gradclip GradientClip':    ('torch clip_grad_norm_', 1.05),
    'gradclip clip_grad_agc_':  ('torch clip_grad_norm_', 2.0),
    'gradclip AutoClipper':     ('torch clip_grad_norm_', 1.15),
    'gradclip ZClipper':        ('torch clip_grad_norm_', 1.15),
}
SPEEDUP_GOALS = {'gradclip clip_grad_agc_': ('timm adaptive_clip_grad', 1.5)}  # at least this much faster

def paired_ratio(times, name, ref) -> float:
    "Median over rounds of time(name) / time(ref) measured in the same round: drift on a busy machine cancels out"
    return statistics.median(a / b for a, b in zip(times[name], times[ref]))

def report(times):
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{'method':30s} {'median ms':>10s} {'× torch norm clip':>18s}  goal (ratios: median of per-round pairs)")
    for name, m in med.items():
        goal = ''
        if name in GOALS:
            ref, limit = GOALS[name]
            r = paired_ratio(times, name, ref)
            goal = f"≤ {limit:.2f}× {'torch' if ref.startswith('torch') else ref}: {'met' if r <= limit else 'MISSED'} ({r:.2f}×)"
        if name in SPEEDUP_GOALS:
            ref, factor = SPEEDUP_GOALS[name]
            s = 1 / paired_ratio(times, name, ref)
            goal += f"; ≥ {factor:.1f}× faster than {ref}: {'met' if s >= factor else 'MISSED'} ({s:.2f}×)"
        if name == 'gradclip GradientClip':
            goal += f"; {paired_ratio(times, name, 'fastai GradientClip'):.2f}× fastai's GradientClip"
        print(f"{name:30s} {m*1e3:10.2f} {paired_ratio(times, name, 'torch clip_grad_norm_'):17.2f}×  {goal}")
    return med


def autoclip_history_cost(model, device, rounds=20, histories=(10**3, 10**5, 10**6)):
    """AutoClipper's per-step cost against NormClipper's, by history length and by how full the history is.

    AutoClipper keeps its history sorted as norms arrive, so a step costs a few passes over the buffer whatever its
    fill; the former design sorted the whole buffer every step (shown as `sort(history)` for reference)."""
    from gradclip.core import AutoClipper, NormClipper
    small = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.Tanh(), torch.nn.Linear(32, 8)).to(device)  # 1.3k params
    for p in small.parameters(): p.grad = torch.randn_like(p)
    print(f"\nAutoClipper per step, by history length (median ms of {rounds}; ratio to NormClipper on the same parameters)")
    print(f"{'parameters':>22s} {'history':>9s} {'fill':>6s} {'NormClipper':>12s} {'AutoClipper':>12s} {'ratio':>7s} {'sort(history)':>14s}")
    for label, net in (('ResNet-50 (25.6M)', model), ('small MLP (1.3k)', small)):
        params = list(net.parameters())
        for h in histories:
            auto, norm = AutoClipper(0.9, h), NormClipper(1.0)
            buf = torch.rand(h, device=device)
            for fill, steps in (('early', 5), ('full', None)):
                if steps is None:   # fill the history quickly, without timing, by loading a full state
                    auto.load_state_dict({'norms': torch.rand(h, device=device), 'count': torch.tensor(h, device=device),
                                          'next': torch.tensor(0, device=device)})
                else:
                    for _ in range(steps): auto(params)
                times = timed_rounds({'norm': lambda: norm(params), 'auto': lambda: auto(params),
                                      'sort': lambda: buf.sort()}, params, device, rounds, 3)
                med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
                print(f"{label:>22s} {h:9d} {fill:>6s} {med['norm']:12.3f} {med['auto']:12.3f} "
                      f"{paired_ratio(times, 'auto', 'norm'):6.2f}× {med['sort']:14.3f}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=50)
    ap.add_argument('--warmup', type=int, default=30, help='untimed calls first (also fills AutoClip history and ZClip warmup)')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--skip-monitor', action='store_true')
    ap.add_argument('--skip-history', action='store_true', help="skip AutoClipper's cost by history length")
    args = ap.parse_args()
    device = torch.device(args.device)
    model = resnet50_params(device)
    n, k = sum(p.numel() for p in model.parameters()), len(list(model.parameters()))
    print(f"ResNet-50 parameter set: {n/1e6:.1f}M parameters in {k} tensors, {device}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}; median of {args.rounds} after {args.warmup} warm-up calls")
    report(timed_rounds(clip_methods(model), list(model.parameters()), device, args.rounds, args.warmup))
    if not args.skip_history: autoclip_history_cost(model, device)
    if not args.skip_monitor:       # GradientMonitor's overhead on a real ResNet-50 training step (bench_monitor.py)
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_monitor import monitor_step_overhead
        monitor_step_overhead(device)

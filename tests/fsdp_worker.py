"""One rank of the sharded-training tests: `torchrun --standalone --nproc_per_node=2 fsdp_worker.py OUT_DIR`.

Every gradclip function and clipper runs on gradients sharded by FSDP2 (`fully_shard`: DTensors placed Shard(0)),
together with a replicated DTensor, a DTensor split by columns (Shard(1)) and a plain tensor, and on the same
parameters unsharded, from the same global batch. A layer with 3 rows splits 2 + 1 and a layer with 1 row leaves
rank 1 an empty shard. Each rank writes what it saw to OUT_DIR/rank{r}.json for `test_fsdp.py` to compare.
"""
import datetime, json, math, sys, warnings
import torch, torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor, init_device_mesh

warnings.filterwarnings('ignore')
from gradclip.core import (grad_norm, tensor_norms, clip_grad_norm_, clip_grad_value_, clip_grad_agc_, NormClipper,
                           ValueClipper, AGCClipper, AutoClipper, ZClipper)

def probe_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3), nn.Tanh(), nn.Linear(3, 1))

def extra_weights() -> dict:
    "Weights (and their gradients) placed otherwise than FSDP2 places them: replicated, split by columns, plain"
    g = torch.Generator().manual_seed(1)
    return {name: (torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g) * 3) for name in ('replicated', 'by_columns', 'plain')}

def with_grad(weight, grad):
    p = nn.Parameter(weight); p.grad = grad
    return p

def global_batch(step:int):
    g = torch.Generator().manual_seed(100 + step)
    return torch.randn(16, 6, generator=g), torch.randn(16, 1, generator=g) * 5

def loss(model, x, y): return (model(x) - y).pow(2).mean() * 20

def unsharded(step=0):
    model = probe_model()
    loss(model, *global_batch(step)).backward()
    return model, [with_grad(w, g) for w, g in extra_weights().values()]

def sharded(mesh, step=0):
    "The probe model under FSDP2, each rank on its half of the global batch; FSDP2 averages the two halves' gradients"
    model, w = probe_model(), extra_weights()
    for layer in model[::2]: fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    place = lambda t, placement: distribute_tensor(t, mesh, [placement])
    extras = [with_grad(place(w, Replicate()), place(g, Replicate())) for w, g in [w['replicated']]] + \
             [with_grad(place(w, Shard(1)), place(g, Shard(1))) for w, g in [w['by_columns']]] + [with_grad(*w['plain'])]
    x, y = global_batch(step)
    r = dist.get_rank()
    loss(model, x[8 * r:8 * r + 8], y[8 * r:8 * r + 8]).backward()
    return model, extras

def full(t): return t.full_tensor() if isinstance(t, DTensor) else t

def compare(mesh, fn):
    "Run `fn(params)` on sharded and unsharded parameters: (norm seen here, unsharded norm, largest gradient difference)"
    ms, es = sharded(mesh); mr, er = unsharded()
    ps, pr = list(ms.parameters()) + es, list(mr.parameters()) + er
    ns, nr = fn(ps), fn(pr)
    diff = max((full(a.grad) - b.grad).abs().max().item() for a, b in zip(ps, pr))
    as_floats = lambda n: n.tolist() if n.ndim else n.item()
    return {'norm': as_floats(ns), 'unsharded': as_floats(nr), 'max_grad_diff': diff, 'is_plain_tensor': type(ns) is torch.Tensor}

def stats_of(make_clipper):
    "A case that clips with a new clipper each time and returns what it saw: (norm, threshold, clipped)"
    def fn(params):
        clipper = make_clipper(); clipper(params)
        return torch.stack([clipper.last.norm.float(), clipper.last.threshold.float(), clipper.last.clipped.float()])
    return fn

def training(mesh, make_clipper, steps=6):
    "Thresholds of a clipper over `steps` SGD steps, sharded and unsharded"
    out = {}
    for kind in ('sharded', 'unsharded'):
        clipper, model, thresholds = make_clipper(), probe_model(), []
        if kind == 'sharded':
            for layer in model[::2]: fully_shard(layer, mesh=mesh)
            fully_shard(model, mesh=mesh)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        for step in range(steps):
            x, y = global_batch(step)
            if kind == 'sharded': r = dist.get_rank(); x, y = x[8 * r:8 * r + 8], y[8 * r:8 * r + 8]
            loss(model, x, y).backward()
            clipper(model.parameters())
            thresholds.append([clipper.last.norm.item(), clipper.last.threshold.item()])
            opt.step(); opt.zero_grad()
        out[kind] = {'steps': thresholds, 'weights': [full(p.detach()).flatten().tolist() for p in model.parameters()],
                     'state': {k: v.tolist() for k, v in clipper.state_dict().items()}}
    return out

def error_of(fn) -> str:
    try: fn()
    except Exception as e: return f'{type(e).__name__}: {e}'
    return ''

if __name__ == '__main__':
    out = sys.argv[1]
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=60))   # a collective never waits forever
    mesh, rank = init_device_mesh('cpu', (2,)), dist.get_rank()
    res = {'placements': [str(p.grad.placements) if isinstance(p.grad, DTensor) else 'plain' for p in
                          list(sharded(mesh)[0].parameters()) + sharded(mesh)[1]],
           'local_shapes': [list(p.grad.to_local().shape) for p in sharded(mesh)[0].parameters()]}
    cases = {f'grad_norm p={p}': lambda ps, p=p: grad_norm(ps, p) for p in (1, 2, 3, math.inf)}
    cases.update({f'clip_grad_norm_ p={p}': lambda ps, p=p: clip_grad_norm_(ps, 0.5, p) for p in (1, 2, math.inf)})
    cases.update({
        'tensor_norms': lambda ps: tensor_norms([p.grad for p in ps]),
        'clip_grad_value_': lambda ps: (clip_grad_value_(ps, 0.05), grad_norm(ps))[1],
        'clip_grad_agc_': lambda ps: clip_grad_agc_(ps, 0.05),
        'NormClipper': stats_of(lambda: NormClipper(0.5)), 'NormClipper inf': stats_of(lambda: NormClipper(0.5, 'inf')),
        'ValueClipper': stats_of(lambda: ValueClipper(0.05)), 'AGCClipper': stats_of(lambda: AGCClipper(0.05)),
        'AutoClipper': stats_of(AutoClipper), 'ZClipper': stats_of(lambda: ZClipper(warmup_steps=1)),
    })
    res['cases'] = {name: compare(mesh, fn) for name, fn in cases.items()}
    res['training'] = {'AutoClipper': training(mesh, lambda: AutoClipper(0.5, history=4)),
                       'ZClipper': training(mesh, lambda: ZClipper(warmup_steps=2, z_thresh=1.0, max_grad_norm=None))}
    # FSDP1 keeps flat shards as plain tensors, marked by torch's own helper: gradclip must refuse them, not measure one rank
    from torch.distributed.fsdp._common_utils import _set_fsdp_flattened
    flat = nn.Parameter(torch.randn(5)); flat.grad = torch.randn(5); _set_fsdp_flattened(flat)
    res['fsdp1_error'] = error_of(lambda: clip_grad_norm_([flat], 1.0))
    partial = nn.Parameter(torch.randn(3)); partial.grad = DTensor.from_local(torch.randn(3), mesh, [Partial()])
    res['partial_error'] = error_of(lambda: grad_norm([partial]))
    with open(f'{out}/rank{rank}.json', 'w') as f: json.dump(res, f)
    dist.destroy_process_group()

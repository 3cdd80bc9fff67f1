"""Gradient clipping with FSDP2 in a plain PyTorch loop.

    torchrun --nproc_per_node=2 examples/fsdp2_clip.py [OUT.json]

`fully_shard` splits every weight across the ranks (each holds a DTensor shard). A gradclip clipper called on the
sharded parameters all-reduces one partial norm per step, so the norm it clips by — and logs — is the whole model's,
the same on every rank, and its adaptive state stays identical everywhere. Runs on CPUs (gloo) or GPUs (nccl).
"""
import datetime, json, sys
import torch, torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard
from gradclip.core import AutoClipper

def main(out=None, steps=8):
    backend = 'nccl' if torch.cuda.is_available() else 'gloo'
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=60))
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device('cuda', rank % torch.cuda.device_count()) if backend == 'nccl' else torch.device('cpu')
    torch.manual_seed(0)                                   # the same initial weights on every rank
    model = nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 1)).to(device)
    for layer in model[::2]: fully_shard(layer)
    fully_shard(model)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-2)
    clipper = AutoClipper(quantile=0.9, history=100)
    data = torch.Generator().manual_seed(1)
    log = []
    for step in range(steps):
        x = torch.randn(16 * world, 16, generator=data)    # one global batch; each rank takes its slice
        y = x.sum(1, keepdim=True).sin() * 3
        x, y = (t.chunk(world)[rank].to(device) for t in (x, y))
        nn.functional.mse_loss(model(x), y).backward()
        norm = clipper(model.parameters())                 # the global norm: a plain tensor, the same on every rank
        log.append([norm.item(), clipper.last.threshold.item()])
        opt.step(); opt.zero_grad()
        if rank == 0: print(f'step {step}: gradient norm {log[-1][0]:.4f}, threshold {log[-1][1]:.4f}')
    if out:
        weights = [p.detach().full_tensor().cpu().flatten().tolist() for p in model.parameters()]
        with open(f'{out}.rank{rank}.json', 'w') as f: json.dump({'log': log, 'weights': weights}, f)
    dist.destroy_process_group()

if __name__ == '__main__': main(*sys.argv[1:2])

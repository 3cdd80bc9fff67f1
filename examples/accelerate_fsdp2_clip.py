"""Gradient clipping in a 🤗 Accelerate loop, with the model sharded by FSDP2.

    torchrun --nproc_per_node=2 examples/accelerate_fsdp2_clip.py [OUT.json]     (or: accelerate launch ...)

Accelerate starts the processes, splits the data and runs backward; the model is sharded with `fully_shard` by hand
(Accelerate's own FSDP plugin wants a GPU; on GPUs, `FullyShardedDataParallelPlugin(fsdp_version=2)` shards the same
way). Instead of `accelerator.clip_grad_norm_`, any gradclip clipper: here ZClip, which needs the true global norm
at every step to keep its running statistics right — and identical on every rank.
"""
import datetime, json, sys
import torch, torch.distributed as dist
from torch import nn
from torch.distributed.fsdp import fully_shard
from accelerate import Accelerator
from gradclip.core import ZClipper

def main(out=None, steps=8):
    # the process group, with a timeout of our own (Accelerate would wait 30 minutes on a lost rank); it uses this one
    dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo', timeout=datetime.timedelta(seconds=60))
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 1)).to(accelerator.device)
    for layer in model[::2]: fully_shard(layer)
    fully_shard(model)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-2)
    x = torch.randn(16 * steps * accelerator.num_processes, 16, generator=torch.Generator().manual_seed(1))
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True).sin() * 3), batch_size=16)
    opt, data = accelerator.prepare(opt, data)
    clipper, log = ZClipper(warmup_steps=3, z_thresh=2.0, max_grad_norm=None), []
    for xb, yb in data:
        accelerator.backward(nn.functional.mse_loss(model(xb), yb))
        reference = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()]).full_tensor()   # PyTorch's own
        norm = clipper(model.parameters())
        log.append([norm.item(), reference.item(), clipper.last.threshold.item()])
        opt.step(); opt.zero_grad()
        accelerator.print(f'gradient norm {norm.item():.4f} (PyTorch: {reference.item():.4f}), threshold {log[-1][2]:.4f}')
    if out:
        with open(f'{out}.rank{accelerator.process_index}.json', 'w') as f: json.dump({'log': log}, f)
    accelerator.wait_for_everyone()
    dist.destroy_process_group()

if __name__ == '__main__': main(*sys.argv[1:2])

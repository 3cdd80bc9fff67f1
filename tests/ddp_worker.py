"""One rank of the 2-process DDP test: `torchrun --standalone --nproc_per_node=2 ddp_worker.py OUT_DIR`.

Trains the same tiny model as `test_ddp.reference_run` under fastai's `learn.distrib_ctx()` (gloo, CPU) with gradclip's
GradientClip and AutoClip, and saves this rank's final weights and recorded thresholds to OUT_DIR/rank{r}.pt.
"""
import datetime, os, sys, warnings
import torch, torch.distributed as dist

warnings.filterwarnings('ignore', category=FutureWarning)
from fastai.distributed import DistributedDL
from ddp_common import make_learner, BS_PER_RANK

def _broadcast_cpu(self, t, rank):
    "fastai's DistributedDL broadcasts the batch order through CUDA (for nccl); on gloo it stays on the CPU"
    t = torch.tensor(t, dtype=torch.long)
    dist.broadcast(t, rank)
    return t.tolist()

if __name__ == '__main__':
    out = sys.argv[1]
    dist.init_process_group('gloo', timeout=datetime.timedelta(seconds=60))   # a lost rank fails the test, not hangs it
    rank = dist.get_rank()
    DistributedDL._broadcast = _broadcast_cpu
    learn = make_learner(bs=BS_PER_RANK)
    with learn.distrib_ctx(sync_bn=False, cpu=True):   # cpu=True: Accelerate's multi-CPU (gloo) mode
        with learn.no_bar(), learn.no_logging(): learn.fit(3, 0.3)
    torch.save({'weights': [p.detach().clone() for p in learn.model.parameters()],
                'gc_norms': learn.gradient_clip.norms, 'ac_thresholds': learn.auto_clip.thresholds,
                'n_steps': len(learn.gradient_clip.log)}, os.path.join(out, f'rank{rank}.pt'))
    dist.destroy_process_group()

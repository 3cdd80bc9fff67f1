"Launching a script on two CPU ranks with torchrun, for the multi-process tests"
import os, subprocess, sys
from pathlib import Path

HERE, ROOT = Path(__file__).parent, Path(__file__).parent.parent

# A rank can abort *after* its work, while the interpreter shuts down: gloo's worker threads may still hold tensors
# then (pytorch/pytorch#179291). That is PyTorch's teardown, not what the tests test, so such a launch gets one retry.
TEARDOWN_ABORT = 'terminate called without an active exception'

def torchrun(script, *args, timeout=240, retries=1) -> str:
    "Run `script` on 2 ranks (gloo on 127.0.0.1, one thread each) within `timeout` seconds; return what it printed"
    env = {**os.environ, 'OMP_NUM_THREADS': '1',
           'PYTHONPATH': os.pathsep.join([str(ROOT), str(HERE), os.environ.get('PYTHONPATH', '')])}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', str(script), *map(str, args)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0 and retries and TEARDOWN_ABORT in res.stderr: return torchrun(script, *args, timeout=timeout, retries=retries - 1)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    return res.stdout

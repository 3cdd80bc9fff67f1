"""Which numbers this machine computes: a fingerprint of its floating-point results.

    python tools/numerics.py          prints this machine's fingerprint as JSON

A tutorial's saved outputs are what its runs print, and a diverging run amplifies the last bit of rounding: another
CPU (other SIMD paths in PyTorch's kernels, another code path in its BLAS, another LAPACK) or another PyTorch prints
other numbers from the same seeded code. `tools/run_notebooks.py` records the fingerprint of the machine that saved
each tutorial's outputs in `tests/saved_outputs.json`; `tests/test_tutorials.py` compares a fresh run with the saved
outputs digit for digit where the fingerprints agree, and says why it cannot where they do not.

The fingerprint is a hash of results, not a list of CPU features: a short chaotic training (an MLP with LayerNorm
and AdamW at a learning rate that makes it amplify differences) and one result of each other kind of kernel the
tutorials lean on (a tanh RNN and its backward pass, a convolution, attention, eigenvalues, a float16 autocast
matrix product), all on one thread as the tutorials run. Two machines whose hashes agree computed every one of those
bits alike. The CPU's name and the PyTorch version come with it, to say in words where outputs came from.
"""
import hashlib, json, platform, sys
from pathlib import Path

def _cpu_name() -> str:
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def probe() -> str:
    "A hash of the exact bits of a set of float results computed on one thread"
    import torch, torch.nn as nn, torch.nn.functional as F
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        h = hashlib.sha1()
        def add(t): h.update(t.detach().float().contiguous().numpy().tobytes())
        g = torch.Generator().manual_seed(0)
        rand = lambda *shape: torch.randn(*shape, generator=g)
        torch.manual_seed(0)                         # the layers' own initialisation
        x, y = rand(64, 37), torch.randint(0, 10, (64,), generator=g)
        mlp = nn.Sequential(nn.Linear(37, 91), nn.ReLU(), nn.Linear(91, 91), nn.Tanh(), nn.LayerNorm(91), nn.Linear(91, 10))
        opt = torch.optim.AdamW(mlp.parameters(), lr=0.05)
        for _ in range(40):                           # chaotic enough that one differently rounded bit shows
            loss = F.cross_entropy(mlp(x), y); opt.zero_grad(); loss.backward(); opt.step(); add(loss)
        rnn = nn.RNN(5, 32, batch_first=True)
        out, _ = rnn(rand(8, 50, 5)); out.square().sum().backward(); add(out); add(rnn.weight_hh_l0.grad)
        add(nn.Conv2d(3, 8, 3)(rand(4, 3, 17, 17)))
        add(F.scaled_dot_product_attention(rand(2, 4, 16, 8), rand(2, 4, 16, 8), rand(2, 4, 16, 8), is_causal=True))
        add(torch.linalg.eigvals(rand(32, 32)).abs().sort().values)
        with torch.autocast('cpu', dtype=torch.float16): add(rand(33, 65) @ rand(65, 17))
        return h.hexdigest()[:16]
    finally: torch.set_num_threads(threads)

def fingerprint() -> dict:
    "This machine's numbers (`probe`), with the PyTorch version, its CPU kernels' SIMD level and the CPU's name"
    import torch
    return dict(probe=probe(), torch=torch.__version__, cpu_capability=torch.backends.cpu.get_cpu_capability(),
                cpu=_cpu_name())

SAVED_ON = Path(__file__).resolve().parents[1]/'tests'/'saved_outputs.json'   # tutorial -> where its outputs were saved

def saved_on() -> dict:
    "Each tutorial's fingerprint of the machine that saved its outputs"
    return json.loads(SAVED_ON.read_text()) if SAVED_ON.exists() else {}

def record_saved(name:str, where:dict):
    "Record that tutorial `name`'s outputs were saved on the machine `where`"
    table = {**saved_on(), name: where}
    SAVED_ON.write_text(json.dumps(dict(sorted(table.items())), indent=1, ensure_ascii=False) + '\n')

def same_numbers(a:dict, b:dict) -> bool:
    "Whether two fingerprints say the machines compute alike"
    return a['probe'] == b['probe'] and a['torch'] == b['torch']

if __name__ == '__main__':
    json.dump(fingerprint(), sys.stdout); print()

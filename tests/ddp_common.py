"Model and data shared by the DDP worker and the single-process reference"
import torch
from torch import nn
from fastai.basics import set_seed, DataLoaders, DataLoader, Learner, MSELossFlat, SGD
from gradclip.callback import GradientClip, AutoClip

N_ITEMS, BS_PER_RANK = 64, 8

def items():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_ITEMS, 6, generator=g)
    y = x @ (torch.randn(6, 1, generator=g) * 4) + 0.1 * torch.randn(N_ITEMS, 1, generator=g)
    return list(zip(x, y))

def make_learner(bs, train_items=None):
    set_seed(0, reproducible=True)
    train = train_items if train_items is not None else items()
    dls = DataLoaders(DataLoader(train, bs=bs, shuffle=False), DataLoader(items()[:16], bs=16), device='cpu')
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))
    return Learner(dls, model, loss_func=MSELossFlat(), opt_func=SGD,
                   cbs=[GradientClip(0.5), AutoClip(0.5, history=8)])

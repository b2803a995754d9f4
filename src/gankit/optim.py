"""pylearn2's learning rule and schedules, as the paper's code used them.

The update is classical momentum, velocity = mu * velocity - lr * grad; param += velocity, which
differs from torch.optim.SGD's form whenever lr changes, and lr changes after every update here.
"""

from __future__ import annotations

import torch


def learning_rate(step: int, lr0: float, decay: float, lr_min: float) -> float:
    """lr used by update number step (0-based): lr0 / decay**step, floored at lr_min."""
    return max(lr0 / decay**step, lr_min)


def momentum(epoch: int, start: float, end: float, saturate: int) -> float:
    """Momentum during 1-based epoch: start in epoch 1, rising linearly to end at epoch saturate.

    Matches pylearn2's MomentumAdjustor(start=1, saturate): it also fires once before epoch 1.
    """
    alpha = min(max((epoch - 1) / max(saturate - 1, 1), 0.0), 1.0)
    return start * (1.0 - alpha) + end * alpha


class MomentumSGD:
    """Classical momentum over a named set of parameters; velocities start at zero."""

    def __init__(self, named_params: dict[str, torch.nn.Parameter]) -> None:
        self.names = list(named_params)
        self.params = [named_params[n] for n in self.names]
        self.velocity = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor] | tuple[torch.Tensor, ...], lr: float | torch.Tensor,
             mu: float | torch.Tensor) -> None:
        """lr and mu as numbers, or as 0-dim tensors on the device (the CUDA-graph step fills them in place)."""
        torch._foreach_mul_(self.velocity, mu)
        # lr * grad rounded, then subtracted (as the official code's Theano graph does): the same arithmetic
        # for lr as a number or a tensor, so the CUDA-graph step is the eager step to the bit (with lr in float32)
        torch._foreach_sub_(self.velocity, torch._foreach_mul(list(grads), lr))
        torch._foreach_add_(self.params, self.velocity)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.velocity))

    def layout(self) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """What state_tensors holds once the optimiser has stepped (a velocity per parameter)."""
        return {n: (tuple(p.shape), p.dtype) for n, p in zip(self.names, self.params)}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        missing = set(self.names) - set(tensors)
        if missing:
            raise KeyError(f"velocity for {sorted(missing)[0]}")
        with torch.no_grad():
            for name, v in zip(self.names, self.velocity):
                v.copy_(tensors[name])


class Adam:
    """torch.optim.Adam behind MomentumSGD's interface (named params, step from given gradients).

    Not the paper's optimiser: the demo recipe's, which trains MNIST without collapsing at every
    seed tried (docs/results/demo-seeds.json). mu is ignored; betas are fixed at construction. On CUDA it
    is torch's capturable Adam (its step counts on the device), so that the CUDA-graph step can record it.
    """

    def __init__(self, named_params: dict[str, torch.nn.Parameter], betas: tuple[float, float]) -> None:
        self.names = list(named_params)
        self.params = [named_params[n] for n in self.names]
        self.capturable = bool(self.params) and self.params[0].is_cuda
        self.opt = torch.optim.Adam(self.params, lr=1e-3, betas=betas, foreach=True, capturable=self.capturable)

    def step(self, grads: list[torch.Tensor] | tuple[torch.Tensor, ...], lr: float | torch.Tensor,
             mu: float | torch.Tensor) -> None:
        for p, g in zip(self.params, grads):
            p.grad = g
        if isinstance(lr, torch.Tensor) and not self.capturable:
            lr = float(lr)  # torch's foreach Adam takes lr as a tensor only when capturable (on the CPU: free)
        self.opt.param_groups[0]["lr"] = lr
        self.opt.step()
        for p in self.params:
            p.grad = None

    def state_tensors(self) -> dict[str, torch.Tensor]:
        out = {}
        for name, p in zip(self.names, self.params):
            state = self.opt.state.get(p)
            if state:
                out[f"{name}.exp_avg"] = state["exp_avg"]
                out[f"{name}.exp_avg_sq"] = state["exp_avg_sq"]
                out[f"{name}.step"] = torch.as_tensor(state["step"], dtype=torch.float32).reshape(1)
        return out

    def layout(self) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """What state_tensors holds once the optimiser has stepped (before, it holds nothing)."""
        out: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
        for n, p in zip(self.names, self.params):
            out.update({f"{n}.exp_avg": (tuple(p.shape), p.dtype), f"{n}.exp_avg_sq": (tuple(p.shape), p.dtype),
                        f"{n}.step": ((1,), torch.float32)})
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        if not tensors:  # saved before the first step
            return
        for name, p in zip(self.names, self.params):
            step_device = p.device if self.capturable else torch.device("cpu")  # where torch's Adam keeps it
            if f"{name}.exp_avg" not in tensors:
                raise KeyError(f"Adam state for {name}")
            self.opt.state[p] = {
                "step": tensors[f"{name}.step"].reshape(()).to(torch.float32).clone().to(step_device),
                "exp_avg": tensors[f"{name}.exp_avg"].to(p.device).clone(),
                "exp_avg_sq": tensors[f"{name}.exp_avg_sq"].to(p.device).clone(),
            }


OPTIMIZERS = {"momentum": lambda params, betas: MomentumSGD(params), "adam": Adam}
# the config fields each optimiser reads (the console, TensorBoard and the report show only those)
READS = {"momentum": ("momentum_start", "momentum_end", "momentum_saturate"), "adam": ("adam_beta1", "adam_beta2")}


def uses_momentum(kind: str) -> bool:
    return "momentum_start" in READS.get(kind, ())


def make_optimizer(kind: str, named_params: dict[str, torch.nn.Parameter],
                   betas: tuple[float, float] = (0.5, 0.999)) -> MomentumSGD | Adam:
    """The paper's classical momentum ('momentum') or Adam ('adam'): a key of OPTIMIZERS."""
    return OPTIMIZERS[kind](named_params, betas)

"""One iteration of Algorithm 1, in the update orders gankit offers (STEPS): when D and G step. What each
minimises and how D sees images is the run's GanLoss (gan_loss.py), s.loss.

* ``simultaneous`` (the official code): one forward of G and D, D's and G's gradients both taken
  at the current parameters from the same samples and dropout masks, then both updated.
* ``sequential`` (Algorithm 1 as printed): k updates of D, each on a fresh real batch, then one
  update of G from fresh noise, optionally through D unrolled (Metz et al., 2016).
* ``elbo``: not a GAN's; a VAE's encoder (s.D) and decoder (s.G) both step up the ELBO of one batch.

A step reports its family's statistics (families.py) through StepStats: a GAN's (d_loss, g_loss, D(x),
D(G(z))) of its last D and G evaluations, a VAE's (-ELBO, -log p(x|z), KL). lr and mu come as numbers, or as
0-dim device tensors and the batches from training/captured.py's FedBatches when the step is captured as a CUDA graph:
so nothing here may read a tensor's value on the host.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gankit.config import SECTION_TYPES
from gankit.nets import generate, max_norm_, sample_noise
from gankit.nets.vae import elbo_terms
from gankit.objectives import d_loss
from gankit.runtime import autocast
from gankit.training.batches import PermutationBatches
from gankit.training.state import TrainState
from gankit.training.stats import StepStats

Rate = float | torch.Tensor  # lr or momentum
Objective = SECTION_TYPES["objective"]  # a step reads the configuration's objective section, and nothing else


def _stats(s: TrainState, loss_d: torch.Tensor, loss_g: torch.Tensor, real_logits: torch.Tensor,
           fake_logits: torch.Tensor) -> torch.Tensor:
    out = StepStats(s.family)
    out.report("d_loss", loss_d)
    out.report("g_loss", loss_g)
    out.report("d_real", torch.sigmoid(real_logits.detach()).mean())
    out.report("d_fake", torch.sigmoid(fake_logits.detach()).mean())
    return out.tensor()


def noise(s: TrainState, c: Objective, device: torch.device) -> torch.Tensor:
    """This rank's slice of the global batch's noise (all of it in a single process)."""
    return s.ranks.shard(sample_noise(c.batch_size, s.z_dim, s.noise, s.rng, device))


def simultaneous_step(s: TrainState, batches: PermutationBatches, c: Objective, lr: Rate,
                      mu: Rate) -> torch.Tensor:
    device = batches.device
    real, y = batches.next(s.progress, s.data_rng)  # a conditional G draws the classes of the real batch
    z = noise(s, c, device)
    drop = s.local_rng()
    with autocast(device, s.precision):
        fake = generate(s.G, z, y)
        loss_d, real_logits, fake_logits = s.loss.d_loss(s.D, real, fake, y, drop, s.progress.step)
        loss_g = s.loss.g_loss(fake_logits, real_logits)
    grads_d = torch.autograd.grad(loss_d, s.opt_d.params, retain_graph=True)
    grads_g = torch.autograd.grad(loss_g, s.opt_g.params)
    grads = s.ranks.average((*grads_d, *grads_g))  # one all-reduce for both nets under torchrun
    s.opt_d.step(grads[: len(grads_d)], s.lr_d(lr), mu)
    s.opt_g.step(grads[len(grads_d):], s.lr_g(lr), mu)
    if s.max_norm:
        max_norm_([s.G, s.D], s.max_norm)
    return _stats(s, loss_d, loss_g, real_logits, fake_logits)


def sequential_step(s: TrainState, batches: PermutationBatches, c: Objective, lr: Rate,
                    mu: Rate) -> torch.Tensor:
    device = batches.device
    for i in range(c.d_steps):
        real, y = batches.next(s.progress, s.data_rng)
        z = noise(s, c, device)
        drop = s.local_rng(i)
        with autocast(device, s.precision):
            with torch.no_grad():
                fake = generate(s.G, z, y)
            loss_d, real_logits, fake_logits = s.loss.d_loss(s.D, real, fake, y, drop, s.progress.step)
        s.opt_d.step(s.ranks.average(torch.autograd.grad(loss_d, s.opt_d.params)), s.lr_d(lr), mu)
        if s.max_norm:
            max_norm_([s.D], s.max_norm)
    z = noise(s, c, device)
    drop = s.local_rng(c.d_steps)
    with autocast(device, s.precision):  # G's update draws the classes of the last real batch
        if c.unrolled_steps:  # the unrolled D steps stay on each rank's own batches
            g_fake_logits = unrolled_logits(s, batches, c, generate(s.G, z, y), s.lr_d(lr), y)
        else:
            g_fake_logits = s.loss.logits(s.D, generate(s.G, z, y), drop, y)
        # a relativistic G compares with D on the last real batch, seen again by the D G now faces
        g_real_logits = s.loss.logits(s.D, real, drop, y) if s.loss.g_needs_real else None
        loss_g = s.loss.g_loss(g_fake_logits, g_real_logits)
    s.opt_g.step(s.ranks.average(torch.autograd.grad(loss_g, s.opt_g.params)), s.lr_g(lr), mu)
    if s.max_norm:
        max_norm_([s.G], s.max_norm)
    return _stats(s, loss_d, loss_g, real_logits, fake_logits)


def unrolled_logits(s: TrainState, batches: PermutationBatches, c: Objective, fake: torch.Tensor,
                    lr: Rate, fake_y: torch.Tensor | None = None) -> torch.Tensor:
    """D's logits on fake after unrolled_steps SGD steps of D from its current weights, keeping the
    graph so that G's gradient sees how D would respond (Metz et al., 2016)."""
    params = dict(s.D.named_parameters())

    def d(x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return torch.func.functional_call(s.D, params, (x, s.rng) if y is None else (x, s.rng, y))

    for _ in range(c.unrolled_steps):
        real, y = batches.random(c.batch_size, s.rng)
        z = sample_noise(c.batch_size, s.z_dim, s.noise, s.rng, batches.device)
        loss = d_loss(d(real, y), d(generate(s.G, z, y), y), c.d_loss_scale, c.d_objective)
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - lr * g for (name, p), g in zip(params.items(), grads)}
    return d(fake, fake_y)


def elbo_step(s: TrainState, batches: PermutationBatches, c: Objective, lr: Rate, mu: Rate) -> torch.Tensor:
    x, _ = batches.next(s.progress, s.data_rng)
    gen = s.local_rng()
    x = s.G.observe(x, gen)
    with autocast(batches.device, s.precision):
        log_px, kl = elbo_terms(s.D, s.G, x, gen)
        loss = (kl - log_px).mean()
    grads = s.ranks.average(torch.autograd.grad(loss, s.opt_d.params + s.opt_g.params))
    s.opt_d.step(grads[: len(s.opt_d.params)], lr, mu)
    s.opt_g.step(grads[len(s.opt_d.params):], lr, mu)
    out = StepStats(s.family)
    out.report("neg_elbo", loss)
    out.report("reconstruction", -log_px.detach().mean())
    out.report("kl", kl.detach().mean())
    return out.tensor()


Step = Callable[[TrainState, PermutationBatches, Objective, Rate, Rate], torch.Tensor]
STEPS: dict[str, Step] = {"simultaneous": simultaneous_step, "sequential": sequential_step, "elbo": elbo_step}

"""Named configurations: the paper's experiments with its hyperparameters (paper.md), the demo, the toys.
Each is a dict of TrainConfig fields over the defaults (which are the paper's MNIST values)."""

from __future__ import annotations

from typing import Any

ADAM = {"optimizer": "adam", "lr": 2e-4, "lr_decay": 1.0}  # Adam(2e-4, beta1 0.5), the DCGAN recipe
# DCGAN alternates: a D step, then a G step from fresh noise (k = 1); with one simultaneous step for both, D
# overwhelmed G on a folder of emoji (D(G(z)) 0.04 at epoch 5 against 0.15 alternating; see the README)
DCGAN = {**ADAM, "update_order": "sequential"}
# the best VAE checkpoint by FID, not Parzen: on vae-mnist the Parzen monitor fell from 113 to 76 nats over 50
# epochs while the training ELBO rose from +156 to +1564 nats (the README's comparison table)
VAE = {"update_order": "elbo", "noise": "gaussian", "z_dim": 32, "optimizer": "adam", "lr": 1e-3, "lr_decay": 1.0,
       "adam_beta1": 0.9, "monitor_parzen": 0, "monitor_fid": 1000, "best_by": "fid"}

PRESETS: dict[str, dict[str, Any]] = {
    # The official code's MNIST run (goodfeli/adversarial mnist.yaml): simultaneous update,
    # non-saturating G loss, 0.5 on D's loss. Algorithm 1 as printed in the paper is
    # `--update-order sequential --g-objective minimax --d-loss-scale 1`.
    "paper-mnist": {},
    "paper-fashion-mnist": {"dataset": "fashion-mnist"},
    # `make demo`: the paper's MNIST G and D with Adam instead of the paper's momentum SGD, because the
    # paper's recipe collapses early at most seeds (docs/results/seed-study.json, demo-seeds.json)
    "demo-mnist": {"model": "mlp-bn", "optimizer": "adam", "lr": 2e-4, "lr_decay": 1.0, "epochs": 10},
    # tfd_pretrain/pretrain.yaml then train.yaml: 50 epochs, then 22 with two new bottom G layers
    "paper-tfd": {"dataset": "tfd", "model": "paper-tfd", "noise": "gaussian", "lr": 0.05, "epochs": 50,
                  "max_norm": 1.9365},
    "paper-tfd-stage2": {"dataset": "tfd", "model": "paper-tfd-stage2", "noise": "gaussian", "lr": 0.05,
                         "epochs": 22, "max_norm": 1.9365},
    # Figure 1: a 1-D Gaussian, uniform z, small MLPs, Algorithm 1 order; every epoch kept for the GIF
    "toy1d": {"dataset": "toy1d-gaussian", "model": "toy-mlp", "z_dim": 1, "lr": 0.05, "lr_decay": 1.0003,
              "epochs": 12,
              "update_order": "sequential", "d_loss_scale": 1.0, "monitor_parzen": 0, "keep_checkpoints": 1000,
              "grid_size": 1},
    # Mode collapse: a ring of 8 Gaussians (or --dataset toy2d-grid), Algorithm 1 order
    "toy2d": {"dataset": "toy2d-ring", "model": "toy-mlp", "z_dim": 16, "noise": "gaussian", "lr": 0.05,
              "batch_size": 250, "epochs": 25, "update_order": "sequential", "d_loss_scale": 1.0,
              "monitor_parzen": 0, "keep_checkpoints": 1000, "grid_size": 1},
    "paper-cifar10-fc": {"dataset": "cifar10", "model": "paper-cifar10-fc", "noise": "gaussian", "lr": 0.025},
    # beyond the paper: DCGAN (Radford et al. 2016) at 32 px, and on a folder of your own images at 64 px
    "dcgan-mnist": {"model": "dcgan", "image_size": 32, **DCGAN, "batch_size": 128, "epochs": 5},
    "dcgan-fashion-mnist": {"dataset": "fashion-mnist", "model": "dcgan", "image_size": 32, **DCGAN,
                            "batch_size": 128, "epochs": 10},
    "dcgan-folder": {"dataset": "folder", "model": "dcgan", "image_size": 64, **DCGAN, "batch_size": 64,
                     "epochs": 25, "monitor_parzen": 0},
    # conditional GANs, p(x | c): the paper's MLP conditioned as Mirza & Osindero (2014) with a projection D
    "cgan-mnist": {"model": "cgan-mlp", **ADAM, "epochs": 50},  # 50: every class drawn as asked >= 95%
    "cdcgan-fashion-mnist": {"dataset": "fashion-mnist", "model": "cdcgan", "image_size": 32, **DCGAN,
                             "batch_size": 128, "epochs": 10},
    # the VAE (Kingma & Welling 2014), the seeds' other model family: Adam 1e-3, z of 32, Gaussian likelihood
    "vae-mnist": {**VAE, "model": "vae-mlp-gaussian", "epochs": 50},
    "vae-mnist-bernoulli": {**VAE, "model": "vae-mlp-bernoulli", "epochs": 50},  # dynamically binarized MNIST
    "vae-fashion-mnist": {**VAE, "dataset": "fashion-mnist", "model": "vae-conv-gaussian", "image_size": 32,
                          "epochs": 20},
    "vae-folder": {**VAE, "dataset": "folder", "model": "vae-conv-gaussian", "image_size": 64, "batch_size": 64,
                   "epochs": 25, "monitor_fid": 0, "best_by": "parzen"},  # no domain features for a folder
    "paper-cifar10-conv": {"dataset": "cifar10", "model": "paper-cifar10-conv", "noise": "gaussian",
                           "lr": 0.004, "batch_size": 128},
}

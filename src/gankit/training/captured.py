"""The launch-free training step: on CUDA one iteration of Algorithm 1 is captured once as a CUDA graph
and replayed, so that an iteration costs one graph launch instead of ~160 kernel launches from Python.

A graph replays fixed kernels on fixed addresses, so whatever changes between iterations comes in through
buffers: the iteration's real batches (drawn by the usual PermutationBatches and copied into FedBatches'
buffers before each replay), lr and momentum (0-dim device tensors filled before each replay), and the
noise, dropout masks and a VAE's draws (drawn inside the graph from the run's CUDA generator, which the
graph advances on each replay exactly as the eager step would, so checkpoints and resume are unchanged).
The step functions of steps.py are not rewritten: they are called with FedBatches and tensors.

The first WARMUP iterations run eagerly on a side stream (real iterations, not thrown away); the next one
is captured, replayed, and checked against the same iteration run eagerly from the same state (the graph
is kept only if they agree); every later one is replayed. With capture off (the CPU) the same fed step runs
eagerly; tests compare it with the plain step on the CPU, and the captured one with the eager one on CUDA.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable

import torch

from gankit.distributed import Ranks
from gankit.training.batches import Batch, PermutationBatches
from gankit.training.gan_loss import GanLoss
from gankit.training.state import Progress, TrainState
from gankit.training.steps import Objective, Step

WARMUP = 3  # eager iterations before the capture (lazy initialisation of cuBLAS, Adam's state, ...)
_CAPTURING = threading.Lock()  # one capture at a time in a process (warnings' filters and the check are global)


class FedBatches:
    """Stands in for PermutationBatches inside the step: serves, in order, the batches copied into fixed
    buffers for this iteration by fill()."""

    def __init__(self, source: PermutationBatches, per_iteration: int) -> None:
        self.source, self.per_iteration = source, per_iteration
        self.device = source.device
        self.buffers: list[Batch] = []
        self.served = 0

    def fill(self, progress: Progress, rng: torch.Generator) -> None:
        """Draw this iteration's batches from the source (which advances progress.batch) into the buffers."""
        for i in range(self.per_iteration):
            x, y = self.source.next(progress, rng)
            if len(self.buffers) <= i:
                self.buffers.append((x, y))
            else:
                self.buffers[i][0].copy_(x, non_blocking=True)
                if y is not None:
                    self.buffers[i][1].copy_(y, non_blocking=True)
        self.served = 0

    def next(self, progress: Progress, rng: torch.Generator) -> Batch:
        """The next of the filled batches (progress was advanced when they were drawn)."""
        batch = self.buffers[self.served]
        self.served += 1
        return batch


class CapturedStep:
    """A step of steps.py fed through buffers; on CUDA captured as a graph after WARMUP eager iterations."""

    def __init__(self, step: Step, config: Objective, device: torch.device, capture: bool,
                 log: Callable[[str], None] = lambda msg: None) -> None:
        self.step, self.capture, self.device, self.log = step, capture, device, log
        self.per_iteration = config.d_steps if config.update_order == "sequential" else 1
        self.lr = torch.zeros((), device=device)
        self.mu = torch.zeros((), device=device)
        self.feed: FedBatches | None = None
        self.graph: torch.cuda.CUDAGraph | None = None
        self.out: torch.Tensor | None = None  # the graph's statistics, overwritten by each replay
        self.eager_calls = 0
        self.side: torch.cuda.Stream | None = None  # the stream of the eager iterations before the capture

    def __call__(self, s: TrainState, batches: PermutationBatches, c: Objective, lr: float,
                 mu: float) -> torch.Tensor:
        """One iteration, with the signature of the steps in steps.py. The returned statistics live in the
        graph's buffer: add them up before the next call."""
        if self.feed is None or self.feed.source is not batches:
            self.feed = FedBatches(batches, self.per_iteration)
        self.feed.fill(s.progress, s.data_rng)
        self.lr.fill_(lr)
        self.mu.fill_(mu)
        if not self.capture:
            return self.step(s, self.feed, c, self.lr, self.mu)
        if self.graph is None and self.eager_calls < WARMUP:
            self.eager_calls += 1
            return self._on_side_stream(s, c)
        if self.graph is None:
            with _CAPTURING:
                return self._capture_and_check(s, c)
        self.graph.replay()
        return self.out

    def _on_side_stream(self, s: TrainState, c: Objective) -> torch.Tensor:
        """An eager iteration on a side stream, as PyTorch asks of the iterations before a capture."""
        main = torch.cuda.current_stream(self.device)
        if self.side is None:
            self.side = torch.cuda.Stream(self.device)
        self.side.wait_stream(main)
        with torch.cuda.stream(self.side):
            out = self.step(s, self.feed, c, self.lr, self.mu)
        main.wait_stream(self.side)
        return out

    def _capture_and_check(self, s: TrainState, c: Objective) -> torch.Tensor:
        """Capture the step, replay it once, then run the same iteration eagerly from the same state and keep
        the graph only if both ended in the same state (the weights, the optimiser's state and the
        generator): so that a torch version or an op whose capture goes wrong costs speed, never a result.
        The eager iteration's result is the one kept."""
        live = {k: v for k, v in s.tensors().items() if not k.startswith("rng.")}
        before, rng_before = {k: v.clone() for k, v in live.items()}, s.rng.get_state()
        try:
            self._capture(s, c)
            self.graph.replay()
            replayed, rng_replayed = {k: v.clone() for k, v in live.items()}, s.rng.get_state()
        except RuntimeError as exc:  # an op that cannot be captured
            self.graph, replayed = None, None
            why = f"could not capture it ({str(exc).splitlines()[0]})"
        for name, tensor in live.items():  # back to the iteration's start, in place (the graph holds these)
            tensor.copy_(before[name])
        s.rng.set_state(rng_before)
        self.feed.served = 0
        out = self.step(s, self.feed, c, self.lr, self.mu)
        if replayed is not None:
            why = _disagreement(before, live, replayed, s.rng.get_state(), rng_replayed)
        if why:
            self.capture, self.graph = False, None
            self.log(f"the training step runs without a CUDA graph: {why}; set --cuda-graph false to "
                     "silence this")
        return out

    def _capture(self, s: TrainState, c: Objective) -> None:
        """Record one iteration (nothing runs while recording; the replay that follows runs it)."""
        torch.cuda.synchronize(self.device)
        graph = torch.cuda.CUDAGraph()
        if hasattr(graph, "register_generator_state"):  # torch < 2.14; later ones register on first use
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                graph.register_generator_state(s.rng)
        # thread_local: runs trained in other threads of the process (gankit sweep --in-process) go on meanwhile
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            self.out = self.step(s, self.feed, c, self.lr, self.mu)
        self.graph = graph


OFF_BY = 0.25  # how far, as a fraction of an iteration's update (in norm), a replay may land from the eager run


def _disagreement(before: dict[str, torch.Tensor], eager: dict[str, torch.Tensor],
                  replayed: dict[str, torch.Tensor], eager_rng: torch.Tensor, replayed_rng: torch.Tensor) -> str:
    """'' if a replayed iteration ended where the eager one did, else what differs. Floating tensors agree to
    float32 rounding, or else within OFF_BY of the iteration's own update in norm: kernels that reduce in a
    run-dependent order (cuDNN's non-deterministic convolution gradients) move a few elements, and Adam can
    turn a near-zero gradient's rounding into a whole step for them; a stale batch, stale noise or a step left
    out of the graph moves the whole update (a ratio near 1)."""
    if not torch.equal(eager_rng, replayed_rng):
        return "the replayed iteration drew other random numbers than the eager one"
    for name, a in eager.items():
        b = replayed[name]
        if not a.is_floating_point():
            if not torch.equal(a, b):
                return f"the replayed iteration disagreed with the eager one on {name}"
            continue
        a, b = a.float(), b.float()
        if torch.allclose(a, b, rtol=1e-4, atol=1e-6):
            continue
        off, moved = float((b - a).norm()), float((a - before[name].float()).norm())
        if off > OFF_BY * moved:
            return (f"the replayed iteration disagreed with the eager one on {name} (by {off:.3g} in norm, "
                    f"against an update of {moved:.3g})")
    return ""


def launch_free(step: Step, config: Objective, device: torch.device, ranks: Ranks,
                log: Callable[[str], None] = lambda msg: None, cuda_graph: bool = True) -> Step:
    """The step the Trainer runs: captured as a CUDA graph on CUDA when cuda_graph is on (the run section's), a
    single process trains and D is not unrolled (its extra batches are drawn inside the step); else step itself.
    config: the objective section."""
    if device.type != "cuda" or not cuda_graph:
        return step
    lazy = GanLoss(config, (1, 1, 1)).lazy  # a penalty every N steps: the graph would replay one step's choice
    if ranks.world > 1 or config.unrolled_steps or lazy:  # untried with NCCL; unrolled draws extra batches
        why = "under torchrun" if ranks.world > 1 else "with unrolled D steps" if config.unrolled_steps else \
            "with lazy regularization"
        log(f"the CUDA-graph step is not used {why}; training steps run eagerly")
        return step
    return CapturedStep(step, config, device, capture=True, log=log)

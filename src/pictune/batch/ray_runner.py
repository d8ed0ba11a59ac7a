"""run_batch_on_ray(): the batch job on a Ray cluster, one actor per worker.

Each actor opens the corpus index or loads the model once and composes the pictures it is
handed (`ray.util.ActorPool`, results as they finish). With the transformers backend each
actor asks for a GPU when the cluster has one; with the openai backend many light actors
can share a vLLM fleet. Outputs go to `out_dir`, which must be a path every node shares
(NFS, a mounted bucket); resuming works as for the local pool."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pictune.batch.runner import (
    BatchJob,
    BatchSummary,
    Outcome,
    PictureComposer,
    collect,
    make_job,
    plan_batch,
)
from pictune.errors import InputError
from pictune.models.errors import require
from pictune.pipeline.api import default_workers, holds_local_model
from pictune.pipeline.config import Settings

log = logging.getLogger(__name__)
CLIENT_PORT, GCS_PORT = 10001, 6379  # Ray's defaults for ray:// and for a head node
PROBE_SECONDS = 5.0


class _ComposerActor:
    """The Ray actor: a PictureComposer living in a Ray worker process."""

    def __init__(self, job: BatchJob) -> None:
        self.compose = PictureComposer(job)

    def run(self, image: str, out: str) -> Outcome:
        return self.compose(image, out)


def connect(ray: Any, address: str, workers: int | None) -> bool:
    """Join the cluster at `address` ('auto': a running one, else a new local instance;
    'local': a new local instance; 'ray://host:10001' or 'host:6379'). True when this call
    started Ray (and so should shut it down)."""
    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address == "local":
        ray.init(num_cpus=workers, **quiet)
    elif address == "auto":
        try:
            ray.init(address="auto", log_to_driver=False, configure_logging=False)
        except ConnectionError:
            log.info("no running Ray cluster; starting a local instance")
            ray.init(num_cpus=workers, **quiet)
    else:
        _probe(address)  # Ray itself retries an address that does not answer for minutes
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError) as exc:
            raise InputError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
    return True


def _probe(address: str) -> None:
    """Fail fast, in one line, when nothing listens at a cluster address."""
    client = address.startswith("ray://")
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        host, port = target, str(CLIENT_PORT if client else GCS_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot reach the Ray cluster at {address}: {reason}") from exc


def run_batch_on_ray(
    images_dir: Path,
    out_dir: Path,
    *,
    address: str = "auto",
    workers: int | None = None,
    gpus_per_actor: float | None = None,
    prompt: str | None = None,
    seed: int = 0,
    index_folder: Path | None = None,
    config: Settings | None = None,
    progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Like `run_batch`, with `workers` Ray actors (default: one per CPU of the cluster for a
    backend that holds no model, one per GPU — or one — for a local model)."""
    ray = require("ray", "ray")
    from ray.util import ActorPool

    # Actors run in other processes (other machines) with their own working folder.
    images_dir, out_dir = images_dir.resolve(), out_dir.resolve()
    job = make_job(config, index_folder, prompt, seed)
    config = job.config
    summary, todo = plan_batch(images_dir, out_dir)
    if not todo:  # everything finished earlier: no cluster needed
        return collect([], summary, images_dir, out_dir, time.perf_counter(), progress)
    started_ray = connect(ray, address, workers)
    try:
        resources = ray.cluster_resources()
        if gpus_per_actor is None:
            gpus_per_actor = 1.0 if holds_local_model(config) and resources.get("GPU") else 0.0
        if workers is None:
            if gpus_per_actor:
                workers = max(1, int(resources.get("GPU", 1) // gpus_per_actor))
            else:
                workers = default_workers(config, int(resources.get("CPU", 1)))
        actor = ray.remote(num_cpus=1, num_gpus=gpus_per_actor)(_ComposerActor)
        started = time.perf_counter()
        actors = [actor.remote(job) for _ in range(max(1, min(workers, len(todo) or 1)))]
        pool = ActorPool(actors)
        outcomes = pool.map_unordered(lambda a, item: a.run.remote(*item), todo)
        summary = collect(outcomes, summary, images_dir, out_dir, started, progress)
        for handle in actors:
            ray.kill(handle)
        return summary
    finally:
        if started_ray:
            ray.shutdown()

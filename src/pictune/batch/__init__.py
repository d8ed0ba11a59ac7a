"""The `batch` layer: many pictures, resumable, in parallel on this machine or on Ray."""

from pictune.batch.ray_runner import run_batch_on_ray
from pictune.batch.runner import BatchJob, BatchSummary, find_images, run_batch

__all__ = ["BatchJob", "BatchSummary", "find_images", "run_batch", "run_batch_on_ray"]

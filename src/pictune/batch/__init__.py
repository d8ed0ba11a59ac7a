"""The `batch` layer: many pictures, resumable, in parallel."""

from pictune.batch.runner import BatchSummary, find_images, run_batch

__all__ = ["BatchSummary", "find_images", "run_batch"]

"""The `pipeline` layer: image → music runs that tie the lower layers together."""

from pictune.pipeline.offline import OfflineComposition, compose_offline, ensure_builtin_index

__all__ = ["OfflineComposition", "compose_offline", "ensure_builtin_index"]

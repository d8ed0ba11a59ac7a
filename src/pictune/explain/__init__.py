"""The `explain` layer: heat-maps over images, and (next) consistency checks and reports."""

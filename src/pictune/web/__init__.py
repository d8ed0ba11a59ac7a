"""The `web` layer: `pictune serve`, an HTTP API and a page over the same Python API."""

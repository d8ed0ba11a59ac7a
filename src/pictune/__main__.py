"""`python -m pictune` runs the command line."""

from pictune.cli.app import main

main()

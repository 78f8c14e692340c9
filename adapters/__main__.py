"""``python -m adapters`` runs the ``trainbot`` CLI."""

from adapters.cli import main

main()

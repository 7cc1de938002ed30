"""``python -m gates.cli`` runs the ``stagegate`` command."""

from gates.cli.app import main

main()

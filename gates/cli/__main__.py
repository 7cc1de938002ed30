"""``python -m gates.cli`` runs the ``stagegate`` command."""

from gates.cli.main import main

main()

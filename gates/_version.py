"""The stagegate version, in a leaf so that any layer can name it."""

__version__ = "0.1.0"

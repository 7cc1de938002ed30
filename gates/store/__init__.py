"""Artifact stores with create-only writes: a local directory and S3."""

"""Signing: DSSE envelopes, Ed25519 keys, signers by URI."""

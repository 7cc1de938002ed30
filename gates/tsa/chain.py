"""The certificate chain a timestamp authority's tokens are checked against.

One PEM file, as ``[timestamp] tsa_certificate`` names it: the TSA's own certificate
first, then any intermediates, the root last (the order ``openssl`` and sigstore use).
The TSA certificate is pinned: a token signed by any other key, even one the same root
issued, does not verify. A file with one certificate is a self-issued TSA.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from gates.errors import ConfigError

if TYPE_CHECKING:
    from rfc3161_client import Verifier


@dataclass(frozen=True)
class TsaChain:
    """The pinned TSA certificate, its intermediates and the root it chains to."""

    source: str
    leaf: x509.Certificate
    intermediates: tuple[x509.Certificate, ...]
    root: x509.Certificate

    @classmethod
    def load(cls, path: Path) -> TsaChain:
        """Read and check the chain; ConfigError naming the file otherwise."""
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(
                str(path), [f"cannot read the TSA certificate chain: {e.strerror or e}"]
            ) from e
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as e:
            raise ConfigError(
                str(path), [f"not a PEM certificate chain (TSA certificate first, root last): {e}"]
            ) from e
        leaf = certificates[0]
        try:
            usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            usage = None
        if (
            usage is None
            or not usage.critical
            or ExtendedKeyUsageOID.TIME_STAMPING not in usage.value
        ):
            raise ConfigError(
                str(path),
                [
                    f"the first certificate ({leaf.subject.rfc4514_string()}) is not a "
                    "timestamping certificate: RFC 3161 wants extendedKeyUsage timeStamping, "
                    "marked critical"
                ],
            )
        return cls(str(path), leaf, tuple(certificates[1:-1]), certificates[-1])

    def verifier(self, nonce: int | None = None) -> Verifier:
        """An rfc3161-client verifier pinned to this chain (and to a request's nonce)."""
        from rfc3161_client import VerifierBuilder

        builder = VerifierBuilder().tsa_certificate(self.leaf).add_root_certificate(self.root)
        for certificate in self.intermediates:
            builder = builder.add_intermediate_certificate(certificate)
        if nonce is not None:
            builder = builder.nonce(nonce)
        return builder.build()

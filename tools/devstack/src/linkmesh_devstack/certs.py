"""Certificates for mutual TLS between linkmesh's services: a private CA and one certificate
per service, named after it (common name and DNS name), good for both ends of a connection.

    python -m linkmesh_devstack.certs OUT_DIR [--name NAME ...] [--dns-suffix .linkmesh.svc]

writes ``OUT_DIR/ca.crt`` (and ``ca.key``, keep it offline) and ``OUT_DIR/<name>.crt`` /
``<name>.key`` for the gateway, the profile service and every connector (or the names
given). For a test stack, for docker compose (``docker-compose.mtls.yml``) or to load into
Kubernetes secrets; in a cluster, cert-manager issuing the same names is the lasting answer.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def service_names() -> tuple[str, ...]:
    from linkmesh_core.connector_spec import discover

    return ("gateway", "profile", *(spec.name for spec in discover().values()))


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str = "linkmesh internal CA", days: int = 825) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, name: str, dns: tuple[str, ...] = (), ips: tuple[str, ...] = ("127.0.0.1",), days: int = 397) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for ``name``: server and client authentication both."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        names: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys((name, *dns, "localhost"))]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def write(out: Path, names: tuple[str, ...] = (), dns_suffixes: tuple[str, ...] = (), key_mode: int = 0o600) -> Authority:
    """A new CA and a certificate per name in ``out``, a folder only its owner may enter; the
    services' keys get ``key_mode`` (0600; 0644 where containers of another user mount them),
    the CA's key always 0600."""
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)
    ca = Authority.create()
    (out / "ca.crt").write_bytes(ca.pem())
    _private(out / "ca.key", _pem_key(ca.key), 0o600)
    for name in names or service_names():
        cert, key = ca.issue(name, dns=tuple(f"{name}{suffix}" for suffix in dns_suffixes))
        (out / f"{name}.crt").write_bytes(cert)
        _private(out / f"{name}.key", key, key_mode)
    return ca


def _private(path: Path, data: bytes, mode: int) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)
    path.chmod(mode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", action="append", help="a service's name (default: every linkmesh service)")
    parser.add_argument("--dns-suffix", action="append", default=[], help="also name NAME+SUFFIX, e.g. .linkmesh.svc.cluster.local")
    parser.add_argument(
        "--key-mode",
        default="600",
        choices=["600", "640", "644"],
        help="the services' key files' mode (644 for docker compose, whose containers run as another user)",
    )
    args = parser.parse_args()
    write(args.out, tuple(args.name or ()), tuple(args.dns_suffix), int(args.key_mode, 8))
    print(f"wrote ca.crt and a certificate and key per service to {args.out}")


if __name__ == "__main__":
    main()

"""A self-signed certificate for ``python app.py --https``: browsers let a page use the camera
only over HTTPS (or on the machine itself), so phones in a classroom need it.

Made on first start and kept in the segdemo cache; made again when the machine's network
addresses are not all in it (a laptop moved to another room's network).
"""
import datetime
import ipaddress
import socket
from pathlib import Path

from segdemo.paths import cache_dir

VALID_DAYS = 825  # the longest validity some browsers accept for a server certificate


def certificate_covers(cert_path, addresses):
    """True when the certificate at ``cert_path`` names every one of ``addresses`` and is still valid."""
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    listed = {str(a) for a in names.get_values_for_type(x509.IPAddress)}
    fresh = certificate.not_valid_after_utc > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    return fresh and set(addresses) <= listed


def make_certificate(cert_path, key_path, addresses):
    """Write a new key and a self-signed certificate for localhost, this host's name and ``addresses``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "segdemo classroom")])
    hosts = sorted({"localhost", socket.gethostname()})
    ips = sorted({"127.0.0.1", *addresses}, key=ipaddress.ip_address)
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(h) for h in hosts),
                                                    *(x509.IPAddress(ipaddress.ip_address(a)) for a in ips)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def classroom_certificate(addresses, folder=None):
    """(certificate file, key file) naming ``addresses``: the cached pair, or a new one."""
    folder = Path(folder or cache_dir()) / "https"
    cert_path, key_path = folder / "certificate.pem", folder / "key.pem"
    if not (key_path.exists() and certificate_covers(cert_path, addresses)):
        make_certificate(cert_path, key_path, addresses)
    return str(cert_path), str(key_path)

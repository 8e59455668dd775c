"""Write a CRL of one of the home's CAs, signed with that CA's real key, that breaks one rule of
the RFC 5280 CRL profile (or none: `genuine`). Used by tests/crl_profile.rs.

usage: bad_crl.py HOME CA KIND OUT.crl [SERIAL_HEX]
  KIND: genuine | future | delta | critical | critical-entry | ca-only | revoked-after | stale
  SERIAL_HEX: a certificate to list as revoked (stale, genuine); other kinds list a made-up one.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ObjectIdentifier

home, ca, kind, out = sys.argv[1:5]
serial = int(sys.argv[5], 16) if len(sys.argv) > 5 else 0x7E57
pki = os.path.join(home, "pki")
ca_cert = x509.load_pem_x509_certificate(open(os.path.join(pki, f"{ca}.crt.pem"), "rb").read())
ca_key = serialization.load_pem_private_key(open(os.path.join(pki, "private", f"{ca}.key.pem"), "rb").read(), None)

now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
this_update, next_update = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)
revoked_at = now - datetime.timedelta(hours=2)
if kind == "future":
    this_update, next_update = now + datetime.timedelta(days=1), now + datetime.timedelta(days=8)
elif kind == "stale":
    this_update, next_update = now - datetime.timedelta(days=10), now - datetime.timedelta(days=3)
    revoked_at = now - datetime.timedelta(days=11)
elif kind == "revoked-after":
    revoked_at = now

b = (
    x509.CertificateRevocationListBuilder()
    .issuer_name(ca_cert.subject)
    .last_update(this_update)
    .next_update(next_update)
    .add_extension(x509.CRLNumber(int(now.timestamp()) + 1000), critical=False)
    .add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        ),
        critical=False,
    )
)
entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
if kind == "critical-entry":
    entry = entry.add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.7"), b"\x05\x00"), critical=True)
b = b.add_revoked_certificate(entry.build())
if kind == "delta":
    b = b.add_extension(x509.DeltaCRLIndicator(1), critical=True)
elif kind == "critical":
    b = b.add_extension(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55555.8"), b"\x05\x00"), critical=True)
elif kind == "ca-only":
    b = b.add_extension(
        x509.IssuingDistributionPoint(
            full_name=None,
            relative_name=None,
            only_contains_user_certs=False,
            only_contains_ca_certs=True,
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        ),
        critical=True,
    )
elif kind not in ("genuine", "future", "stale", "revoked-after", "critical-entry"):
    sys.exit(f"unknown kind {kind}")

open(out, "wb").write(b.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))

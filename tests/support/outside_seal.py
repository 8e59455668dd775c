"""Seal a zhengyin PDF from outside: a department certificate with a key of another type or size,
issued with python `cryptography` under the home's CA key, and a pyHanko signature made with it.

usage: outside_seal.py HOME CA DEPT KEY MD IN.pdf OUT.pdf
  KEY: p256 | p384 | p521 | rsa1024 | rsa2048     MD: sha256 | sha384 | sha512 | sha1

The certificate copies the subject of the department's own certificate (O, OU, CN, L, C), so the
chain and the department checks pass; only the algorithms differ. Synthetic test data only.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

home, ca, dept, key_kind, md, src, out = sys.argv[1:8]
pki = os.path.join(home, "pki")

ca_cert = x509.load_pem_x509_certificate(open(os.path.join(pki, f"{ca}.crt.pem"), "rb").read())
ca_key = serialization.load_pem_private_key(open(os.path.join(pki, "private", f"{ca}.key.pem"), "rb").read(), None)
dept_cert = x509.load_pem_x509_certificate(open(os.path.join(home, "seals", f"{dept}.crt.pem"), "rb").read())

key = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
    "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
}[key_kind]()

now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(dept_cert.subject)
    .issuer_name(ca_cert.subject)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(hours=1))
    .not_valid_after(now + datetime.timedelta(days=365))
    .add_extension(
        x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
    )
    .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.3.6.1.5.5.7.3.36")]), critical=False)
    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    .add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        ),
        critical=False,
    )
    .sign(ca_key, hashes.SHA256())
)

work = os.path.dirname(os.path.abspath(out))
key_pem = os.path.join(work, f"outside-{key_kind}.key.pem")
cert_pem = os.path.join(work, f"outside-{key_kind}.crt.pem")
open(key_pem, "wb").write(
    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
)
open(cert_pem, "wb").write(cert.public_bytes(serialization.Encoding.PEM))

signer = signers.SimpleSigner.load(key_pem, cert_pem, ca_chain_files=(os.path.join(pki, f"{ca}.crt.pem"),))
org = dept_cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
with open(src, "rb") as inf:
    w = IncrementalPdfFileWriter(inf)
    # Add the signature only: pyHanko would also refresh the XMP metadata and Info dictionary,
    # which zhengyin's difference analysis (rightly) does not allow after a seal.
    w._update_meta = lambda: None
    # The empty field the document reserves for this department's seal.
    empty = [name for name, _, _ in fields.enumerate_sig_fields(w.prev, filled_status=False)]
    field = next(n for n in empty if n.endswith("_" + dept))
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm=md, subfilter=fields.SigSeedSubFilter.PADES, name=org
    )
    with open(out, "wb") as outf:
        signers.sign_pdf(w, meta, signer=signer, output=outf)

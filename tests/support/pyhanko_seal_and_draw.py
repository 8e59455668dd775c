"""Seal a zhengyin PDF's reserved field with pyHanko's own API and, in the same incremental
update, draw a white box over the page (a second content stream appended to the page's
/Contents). A signer that changes page content while sealing must be refused by zhengyin and by
pyHanko alike. Synthetic test data only.

usage: pyhanko_seal_and_draw.py KEY CERT CHAIN FIELD IN.pdf OUT.pdf
"""

import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

key, cert, chain, field, src, out = sys.argv[1:7]
signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
with open(src, "rb") as inf:
    w = IncrementalPdfFileWriter(inf)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    cover = w.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 40 420 520 260 re f Q"))
    old = page.raw_get("/Contents")
    kept = list(old.get_object()) if isinstance(old.get_object(), generic.ArrayObject) else [old]
    page["/Contents"] = generic.ArrayObject(kept + [cover])
    w.update_container(page)
    meta = signers.PdfSignatureMetadata(field_name=field)
    with open(out, "wb") as outf:
        signers.sign_pdf(w, meta, signer=signer, output=outf)

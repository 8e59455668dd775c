"""Schemathesis hooks for .ci/run: every operation is called with a token of the role that may
call it (the "Who: ..." of its description in /openapi.json), so generated requests get past
authorisation and exercise the handlers. Tokens come from the environment (ZY_TOKEN_<ROLE>)."""

import json
import os
import re

import schemathesis
from hypothesis import strategies as st

# RFC 3161 requests (POST /v1/tsa) are DER: generate raw bytes, among them a well-formed
# TimeStampReq (SHA-256 imprint of 32 zero bytes, certReq true), so the granted path runs too.
TSQ = bytes.fromhex("30390201013031300d060960864801650304020105000420" + "00" * 32 + "0101ff")
schemathesis.openapi.media_type(
    "application/timestamp-query", st.one_of(st.just(TSQ), st.binary(max_size=256))
)

TOKENS = {
    "department": os.environ.get("ZY_TOKEN_DEPARTMENT", ""),
    "archivist": os.environ.get("ZY_TOKEN_ARCHIVIST", ""),
    "ca-operator": os.environ.get("ZY_TOKEN_CA_OPERATOR", ""),
    "holder-app": os.environ.get("ZY_TOKEN_HOLDER_APP", ""),
    "foreign": os.environ.get("ZY_TOKEN_FOREIGN", ""),
}


def role_of(description):
    """The first role named after "Who:", or None for a public operation."""
    who = description.split("Who:", 1)[-1].strip().rstrip(".").lower()
    if who.startswith("public"):
        return None
    for role in ("archivist", "ca-operator", "holder-app", "foreign", "department"):
        if who.startswith(role):
            return role
    return "department"  # "any token"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    raw = getattr(getattr(case.operation, "definition", None), "raw", None) or {}
    role = role_of(raw.get("description", ""))
    if role is None or not TOKENS.get(role):
        return
    if case.headers is None:
        case.headers = {}
    case.headers["Authorization"] = f"Bearer {TOKENS[role]}"


# Existing resources .ci/run makes before the run (ZY_REAL_<NAME>): a joint licence awaiting its
# last seal (xzsp's), its identifier, a department's certificate serial, a CRL and a share link.
# Each operation with path parameters is sent these as well as generated values, so it reaches its
# handler's logic and not only a 404.
REAL = {
    name: os.environ.get(f"ZY_REAL_{name.upper()}", "")
    for name in ("id", "identifier", "serial", "file", "name", "token")
}


def _file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


# Valid bodies beside the generated ones: the sealed joint licence for every operation that takes a
# PDF, and an issue request for the department token's own template.
PDF = _file(os.environ.get("ZY_REAL_PDF", ""))
HERE = os.path.dirname(os.path.abspath(__file__))
ISSUE_DATA = _file(os.path.join(HERE, "..", "fixtures", "data", "joint-approval.json"))
PURPOSE = "370900-XK-0012"  # a matter on the fixture list of uses for dy-xzsp


def _op(ctx):
    op = ctx.operation
    return (str(getattr(op, "method", "")).upper(), getattr(op, "path", ""))


@schemathesis.hook
def before_generate_body(ctx, strategy):
    method, path = _op(ctx)
    media = ctx.operation.get_request_payload_content_types() if hasattr(ctx.operation, "get_request_payload_content_types") else []
    if (method, path) == ("POST", "/v1/licences") and ISSUE_DATA:
        issue = {"template": "joint-approval", "data": json.loads(ISSUE_DATA)}
        return st.one_of(strategy, st.just(issue))
    if PDF and "application/pdf" in media and path != "/v1/licences":
        return st.one_of(strategy, st.just(PDF))
    return strategy


@schemathesis.hook
def before_generate_query(ctx, strategy):
    if _op(ctx) == ("POST", "/v1/share/verify"):
        return st.one_of(strategy, st.just({"purpose": PURPOSE}))
    return strategy


@schemathesis.hook
def before_generate_path_parameters(ctx, strategy):
    names = re.findall(r"{(\w+)}", getattr(ctx.operation, "path", "") or "")
    real = {n: REAL.get(n, "") for n in names}
    if not names or not all(real.values()):
        return strategy
    return st.one_of(st.just(real), strategy)


# Binary responses are checked for what they are, not skipped: a PDF starts with %PDF- and ends
# with %%EOF; a CRL, a time-stamp reply and a status list are DER, one SEQUENCE filling the body.
def der_sequence(body):
    if len(body) < 2 or body[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    n = body[1]
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4 or len(body) < 2 + k:
            raise ValueError("bad DER length")
        n, hdr = int.from_bytes(body[2 : 2 + k], "big"), 2 + k
    else:
        hdr = 2
    if hdr + n != len(body):
        raise ValueError(f"DER length {hdr + n} but the body has {len(body)} bytes")


@schemathesis.deserializer("application/pdf")
def pdf(ctx, response):
    body = response.content
    if not body.startswith(b"%PDF-") or b"%%EOF" not in body[-1024:]:
        raise ValueError("not a PDF file")
    return body.decode("latin-1")


@schemathesis.deserializer("application/pkix-crl", "application/timestamp-reply")
def der(ctx, response):
    der_sequence(response.content)
    return response.content.decode("latin-1")


@schemathesis.deserializer("application/vnd.zhengyin.status-list")
def status_list(ctx, response):
    first = response.content.split(b"\n", 1)[0]
    if first.count(b".") != 2:
        raise ValueError("the first line is not a compact JWS")
    return response.content.decode("latin-1")

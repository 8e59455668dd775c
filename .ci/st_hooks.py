"""Schemathesis hooks for .ci/run: every operation is called with a token of the role that may
call it (the "Who: ..." of its description in /openapi.json), so generated requests get past
authorisation and exercise the handlers. Tokens come from the environment (ZY_TOKEN_<ROLE>)."""

import os

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

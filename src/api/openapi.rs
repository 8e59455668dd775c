//! The OpenAPI 3.0 description served at /openapi.json, built in one function from the same
//! route table the tests check against the router ([`ROUTES`]).
//!
//! Knows paths, methods, roles and shapes; nothing else. OpenAPI 3.0.3; problems are RFC 9457.

use serde_json::{json, Value};

/// Every route: (method, path, summary, who may call it: "public" or a role list).
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("post", "/v1/licences", "Issue a licence sealed by the calling department, and archive it", "department"),
    ("post", "/v1/licences/{id}/seals", "Add the calling department's seal to an archived licence (joint seals)", "department"),
    ("post", "/v1/licences/{id}/seals/prepare", "Two-step seal, step 1 (key in a UKey): the SHA-256 of the CMS signed attributes to sign with the calling department's key, and a single-use handle that expires", "department"),
    ("post", "/v1/licences/{id}/seals/complete", "Two-step seal, step 2: the signature value (or a CMS SignerInfo) for a handle; the seal is assembled, the whole document verified, then archived", "department"),
    ("post", "/v1/licences/{id}/status", "Lifecycle: change, renew, reissue (a new sealed version), cancel, revoke, suspend or resume a licence ({id}: its identifier or an archive id); the issuing department or one the authority table names", "department"),
    ("post", "/v1/licences/{id}/presentations", "亮证: a short-lived signed presentation (JWS by the status key, chosen fields only, exp ≤ 300 s, single-use nonce) and its QR code as PNG and SVG; recorded as a use", "holder-app"),
    ("get", "/v1/licences/{id}/status", "A licence's status as plain JSON (the same as `zhengyin licence status --json`)", "public"),
    ("get", "/v1/status/{identifier}", "The signed status answer (JWS ES256 by the region's status key): status, current version, reason code, produced_at, next_update", "public"),
    ("get", "/v1/status-list", "The signed offline status list (one bit per licence version), published beside the trust list", "public"),
    ("post", "/v1/verify", "Verify a PDF: the same JSON report as `zhengyin verify --json`", "public"),
    ("post", "/v1/certificates/{serial}/revoke", "Revoke a certificate (operator of the CA that issued it)", "ca-operator"),
    ("get", "/v1/crl/{ca}", "A CA's current CRL (DER)", "public"),
    ("get", "/crl/{file}", "A CA's current CRL (DER) at the certificates' CRL distribution point: file is `<ca>.crl`", "public"),
    ("get", "/v1/trust-list", "This region's signed trust list", "public"),
    ("get", "/v1/province-list", "The signed list of this province's regions' trust lists", "public"),
    ("get", "/v1/archive/tree-head", "The archive's latest signed tree head (C2SP checkpoint)", "public"),
    ("post", "/v1/archive/consistency", "Check the checkpoint you kept (signed note or receipt) against the archive: a consistency proof, or 409 archive-fork naming both roots", "public"),
    ("get", "/v1/archive/{id}", "An archived record and its PDF", "any token"),
    ("get", "/v1/archive/{id}/proof", "Inclusion proof of an archived record", "any token"),
    ("post", "/v1/audit", "DA/T 70 audit of the archive", "archivist"),
    ("post", "/v1/proofs", "Ask for a proof (无证明): answered from the holding department's data, sealed, archived, use recorded", "department"),
    ("post", "/v1/proofs/verify", "Check a proof token (JWS) or proof PDF", "public"),
    ("post", "/v1/proofs/foreign", "Cross-region proof (跨区域核验): a department of another region asks, with the credential this region issued to it (role foreign)", "foreign"),
    ("post", "/v1/proofs/remote", "Cross-region proof: the calling department asks another region through this server, which checks and files the answer", "department"),
    ("post", "/v1/uses", "Every use record and refusal about a subject (ID in the body, not the URL)", "archivist"),
    ("post", "/v1/uses/query", "The same as POST /v1/uses", "archivist"),
    ("post", "/v1/commitments", "Record a commitment (告知承诺) taken by the calling department, sealed with its seal", "department"),
    ("post", "/v1/commitments/check", "Check open commitments against the holders' data (a department: one of its own, by id)", "archivist, department"),
    ("post", "/v1/share/query", "Licences held by a holder, for a listed use purpose", "department"),
    ("post", "/v1/share/links", "A short-lived single-use download link for a licence, for a listed use purpose", "department"),
    ("get", "/v1/share/download/{token}", "Download once: the licence as an annotated copy (加注件) sealed by the platform", "department"),
    ("post", "/v1/share/verify", "Verify a licence PDF for a listed use purpose and record the use", "department"),
    ("post", "/v1/tsa", "RFC 3161 time-stamping: a DER TimeStampReq in, a DER TimeStampResp out (granted, or a rejection with its PKIFailureInfo)", "public"),
    ("get", "/verify", "The QR verification page (扫码核验, HTML in Chinese): the licence named by ?id= and its current status", "public"),
    ("post", "/verify", "The verification page's upload form (multipart/form-data, field pdf): the report as an HTML page", "public"),
    ("get", "/v1/dashboard", "The 数字驾驶舱's data (issued per department per day, stalled seal plans, verifications, 亮证 scans, proofs, refusals, commitments, archive, audit, freshness) and the page fragment drawn from it (`html`); ?stall_days=N", "archivist"),
    ("get", "/dashboard", "The 数字驾驶舱 page (HTML in Chinese): a shell whose script sends the archivist's token (kept in sessionStorage, never in the URL) to GET /v1/dashboard and refreshes itself", "public"),
    ("get", "/healthz", "Liveness", "public"),
    ("get", "/metrics", "Prometheus metrics", "public"),
    ("get", "/openapi.json", "This description", "public"),
];

fn problem_responses(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        m.insert((*c).to_string(), json!({ "description": "RFC 9457 problem", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }));
    }
    Value::Object(m)
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// The HTML verification page (api::pages): answers, refusals included, are text/html.
fn page_operation(method: &str, summary: &str) -> Value {
    let html =
        |d: &str| json!({ "description": d, "content": { "text/html": { "schema": { "type": "string" } } } });
    let mut op = json!({ "summary": summary, "description": "Who: public. See docs/api.md, \"The verification page\".",
        "operationId": format!("{method}_verify_page"), "security": [],
        "parameters": [{ "name": "id", "in": "query", "required": false, "description": "the licence identifier (GB/T 36904), as in the QR code; without it, the plain upload page", "schema": { "type": "string" } },
            { "name": "p", "in": "query", "required": false, "description": "a 亮证 presentation (compact JWS) from POST /v1/licences/{id}/presentations: shows its fields and the current status, once", "schema": { "type": "string" } }],
        "responses": { "200": html("The page"), "400": html("Malformed identifier, presentation or upload (page)"), "404": html("Unknown identifier (page)"), "409": html("Presentation already scanned (page)"), "410": html("Presentation expired (page)"), "413": html("Upload over the body limit (page)"), "429": html("Rate limited (page)") } });
    if method == "post" {
        op["requestBody"] = json!({ "required": true, "content": { "multipart/form-data": { "schema": { "type": "object", "required": ["pdf"], "properties": { "pdf": { "type": "string", "format": "binary" } } } } } });
    }
    op
}

fn operation(method: &str, path: &str, summary: &str, who: &str) -> Value {
    if path == "/verify" {
        return page_operation(method, summary);
    }
    if path == "/dashboard" {
        return json!({ "summary": summary, "description": "Who: public (the page holds no data). See docs/api.md, \"The dashboard\".", "operationId": "get_dashboard_page", "security": [],
            "responses": { "200": { "description": "The page", "content": { "text/html": { "schema": { "type": "string" } } } } } });
    }
    let mut op = json!({ "summary": summary, "description": format!("Who: {who}."), "operationId": format!("{method}{}", path.replace(['/', '{', '}', '-', '.'], "_")) });
    let mut responses = problem_responses(&["400", "413", "429"]);
    if who != "public" {
        op["security"] = json!([{ "bearer": [] }]);
        if let Some(o) = responses.as_object_mut() {
            o.extend(problem_responses(&["401", "403"]).as_object().cloned().unwrap_or_default());
        }
    } else {
        op["security"] = json!([]);
    }
    let params: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
        if let Some(o) = responses.as_object_mut() {
            o.extend(problem_responses(&["404"]).as_object().cloned().unwrap_or_default());
        }
    }
    let ok = |desc: &str, ct: &str, schema: Value| json!({ "description": desc, "content": { ct: { "schema": schema } } });
    let obj = json!({ "type": "object" });
    let (code, body) = match path {
        "/v1/licences" => {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/IssueRequest" } } } });
            (
                "201",
                ok(
                    "The licence (JSON; or the PDF itself with Accept: application/pdf)",
                    "application/json",
                    json!({ "$ref": "#/components/schemas/Issued" }),
                ),
            )
        }
        "/v1/licences/{id}/seals" => {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "seal": { "type": "string" } }, "additionalProperties": false } } } });
            ("201", ok("The newly sealed licence, archived under a new id", "application/json", obj.clone()))
        }
        "/v1/licences/{id}/seals/prepare" => {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "ttl_seconds": { "type": "integer", "minimum": 1, "maximum": crate::licence::external::MAX_TTL } }, "additionalProperties": false } } } });
            ("200", ok("{handle, dept, digest_algorithm, signature_algorithm, digest_to_sign (base64 SHA-256 of signed_attributes), digest_to_sign_hex, signed_attributes (base64 DER), certificate (base64 DER), expires}", "application/json", obj.clone()))
        }
        "/v1/licences/{id}/seals/complete" => {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["handle"], "properties": {
                "handle": { "type": "string", "pattern": "^[0-9a-f]{32}$" },
                "signature": { "type": "string", "format": "byte", "description": "ECDSA P-256 over digest_to_sign: DER ECDSA-Sig-Value or raw r||s" },
                "signer_info": { "type": "string", "format": "byte", "description": "a DER CMS SignerInfo over exactly signed_attributes" } }, "additionalProperties": false } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["409", "410", "422"]).as_object().cloned().unwrap_or_default());
            }
            ("201", ok("The newly sealed licence, archived under a new id (as POST /v1/licences/{id}/seals)", "application/json", obj.clone()))
        }
        "/v1/verify" => {
            op["parameters"] = json!([{ "name": "revocation", "in": "query", "required": false, "description": "strict (default): a certificate on the path without a current CRL (store or the PDF's DSS) is INDETERMINATE / TRY_LATER; soft-fail: only a warning", "schema": { "type": "string", "enum": ["strict", "soft-fail"] } }]);
            op["requestBody"] = json!({ "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }, "application/pdf": { "schema": { "type": "string", "format": "binary" } } } });
            ("200", ok("Verification report (docs/verification-report.md)", "application/json", obj.clone()))
        }
        "/v1/certificates/{serial}/revoke" => {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "reason": { "type": "string", "enum": crate::pki::revoke::REASONS }, "compromised_at": { "type": "string", "format": "date-time", "description": "with keyCompromise: the invalidityDate (RFC 5280 §5.3.2)" } }, "additionalProperties": false } } } });
            ("200", ok("The revocation", "application/json", obj.clone()))
        }
        "/v1/crl/{ca}" | "/crl/{file}" => {
            ("200", ok("DER CRL", "application/pkix-crl", json!({ "type": "string", "format": "binary" })))
        }
        "/v1/audit" => {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "sample": { "type": "integer", "minimum": 1 } }, "additionalProperties": false } } } });
            ("200", ok("Audit report", "application/json", obj.clone()))
        }
        "/v1/archive/consistency" => {
            op["requestBody"] = json!({ "required": true, "content": { "text/plain": { "schema": { "type": "string", "description": "a C2SP signed checkpoint" } }, "application/json": { "schema": { "type": "object", "required": ["checkpoint"], "properties": { "checkpoint": { "type": "string" } } } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["409"]).as_object().cloned().unwrap_or_default());
            }
            ("200", ok("{consistent, old_size, old_root, new_size, new_root, consistency_path, checkpoint, verifier_key}: checkable with `zhengyin archive check-proof`", "application/json", obj.clone()))
        }
        "/v1/licences/{id}/status" if method == "post" => {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["action"], "properties": {
                "action": { "type": "string", "enum": ["change", "renew", "reissue", "cancel", "revoke", "suspend", "resume"] },
                "reason": { "type": "string", "maxLength": 200 },
                "data": { "type": "object", "description": "the new version's licence data (change, renew, reissue)" } }, "additionalProperties": false } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["409", "422"]).as_object().cloned().unwrap_or_default());
            }
            ("201", ok("The transition {action, identifier, status, reason_code, reason, by, at, record, log_size; new_identifier, new_archive_id, pdf_base64 for a new version}", "application/json", obj.clone()))
        }
        "/v1/licences/{id}/status" => ("200", ok("{identifier, status, status_zh, in_force, expired, current_version, current_status, time, reason_code, reason, successor, …}", "application/json", obj.clone())),
        "/v1/status/{identifier}" => ("200", ok("{answer: compact JWS (typ zhengyin-status+jwt), identifier, status, in_force, current_version, reason_code}", "application/json", obj.clone())),
        "/v1/status-list" => ("200", ok("One line holding a compact JWS (typ zhengyin-status-list+jwt), a line feed, then the retrieval table (docs/api.md)", "application/vnd.zhengyin.status-list", json!({ "type": "string", "format": "binary" }))),
        "/metrics" => ("200", ok("Prometheus text", "text/plain", json!({ "type": "string" }))),
        "/v1/tsa" => {
            op["requestBody"] = json!({ "required": true, "content": { "application/timestamp-query": { "schema": { "type": "string", "format": "binary", "description": "DER TimeStampReq (RFC 3161 §2.4.1), at most 4096 bytes" } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["404", "415"]).as_object().cloned().unwrap_or_default());
            }
            ("200", ok("DER TimeStampResp (RFC 3161 §2.4.2): status granted with a token, or rejection with failInfo", "application/timestamp-reply", json!({ "type": "string", "format": "binary" })))
        }
        "/v1/proofs" => {
            op["requestBody"] = json_body("ProofRequest");
            (
                "200",
                ok(
                    "The answer and its token (JSON; or the proof PDF with Accept: application/pdf)",
                    "application/json",
                    json!({ "$ref": "#/components/schemas/ProofAnswer" }),
                ),
            )
        }
        "/v1/proofs/verify" => {
            op["requestBody"] = json!({ "required": true, "content": {
                "text/plain": { "schema": { "type": "string" } },
                "application/json": { "schema": { "type": "object", "required": ["token"], "properties": { "token": { "type": "string" } } } },
                "application/pdf": { "schema": { "type": "string", "format": "binary" } } } });
            ("200", ok("Token check {valid, problems, signer, chain, revocation, claims}, or the PDF verification report", "application/json", obj.clone()))
        }
        "/v1/licences/{id}/presentations" => {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["fields"], "additionalProperties": false, "properties": {
                "fields": { "type": "array", "minItems": 1, "items": { "type": "string", "enum": crate::licence::presentation::FIELDS.iter().map(|(f, _)| *f).collect::<Vec<_>>() } },
                "ttl_secs": { "type": "integer", "minimum": 1, "maximum": 300 } } }, "example": { "fields": ["licence_type", "holder", "valid_until"], "ttl_secs": 120 } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["409", "422"]).as_object().cloned().unwrap_or_default());
            }
            ("201", ok("{presentation, url, identifier, version, fields, nonce, iat, exp, expires_at, use_record, qr_png_base64, qr_svg}", "application/json", obj.clone()))
        }
        "/v1/uses" | "/v1/uses/query" => {
            op["requestBody"] = json_body("SubjectQuery");
            (
                "200",
                ok(
                    "Use records and refusals, oldest first",
                    "application/json",
                    json!({ "type": "array", "items": { "type": "object" } }),
                ),
            )
        }
        "/v1/commitments" => {
            op["requestBody"] = json_body("CommitRequest");
            ("201", ok("{id, subject_code, record, terms_record, kinds, check_due, pdf_url} (or the sealed PDF with Accept: application/pdf)", "application/json", obj.clone()))
        }
        "/v1/commitments/check" => {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "id": { "type": "string" } }, "additionalProperties": false } } } });
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["404"]).as_object().cloned().unwrap_or_default());
            }
            (
                "200",
                ok(
                    "{checked_at, kept, broken, unverifiable, already_decided, not_due, commitments}",
                    "application/json",
                    obj.clone(),
                ),
            )
        }
        "/v1/share/query" => {
            op["requestBody"] = json_body("ShareQuery");
            (
                "200",
                ok(
                    "{holder_code, licences: [{identifier, title, issuer, issue_date, valid_until, record}]}",
                    "application/json",
                    obj.clone(),
                ),
            )
        }
        "/v1/share/links" => {
            op["requestBody"] = json_body("ShareLink");
            ("201", ok("{url, expires_at, identifier}", "application/json", obj.clone()))
        }
        "/v1/share/download/{token}" => {
            if let Some(o) = responses.as_object_mut() {
                o.extend(problem_responses(&["409", "410"]).as_object().cloned().unwrap_or_default());
            }
            (
                "200",
                ok("The annotated copy", "application/pdf", json!({ "type": "string", "format": "binary" })),
            )
        }
        "/v1/share/verify" => {
            op["parameters"] = json!([{ "name": "purpose", "in": "query", "required": true, "description": "用证事由: a matter code on the list of uses", "schema": { "type": "string" }, "example": "370900-XK-0012" }]);
            op["requestBody"] = json!({ "required": true, "content": { "application/pdf": { "schema": { "type": "string", "format": "binary" } }, "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } });
            ("200", ok("Verification report (docs/verification-report.md)", "application/json", obj.clone()))
        }
        _ => ("200", ok("OK", "application/json", obj.clone())),
    };
    if let Some(o) = responses.as_object_mut() {
        o.insert(code.to_string(), body);
    }
    op["responses"] = responses;
    op
}

/// The OpenAPI document.
pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, who) in ROUTES {
        let entry = paths.entry((*path).to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation(method, path, summary, who);
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "zhengyin 证印", "version": env!("CARGO_PKG_VERSION"), "description": "Electronic licences sealed with PAdES: issue, joint seals, verification, revocation, trust lists, archive. See docs/api.md." },
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "API token from `zhengyin token create`" } },
            "schemas": {
                "Problem": { "type": "object", "required": ["type", "title", "status", "detail"], "properties": { "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" }, "detail": { "type": "string" } } },
                "IssueRequest": { "type": "object", "required": ["template", "data"], "additionalProperties": false, "properties": { "template": { "type": "string" }, "data": { "type": "object" }, "seal": { "type": "string" } } },
                "ProofRequest": { "type": "object", "required": ["kind", "subject", "purpose"], "additionalProperties": false, "properties": {
                    "kind": { "type": "string", "description": "proof kind on the list of uses, e.g. social-insurance" },
                    "subject": { "type": "string", "description": "ID number (GB 11643) or USCC (GB 32100); never logged" },
                    "purpose": { "type": "string", "description": "matter code (事项) on the list of uses" },
                    "valid_days": { "type": "integer", "minimum": 1, "maximum": 366 },
                    "by": { "type": "string", "description": "optional; must be the token's department" } },
                    "example": { "kind": "social-insurance", "subject": "370902199001011235", "purpose": "370900-XK-0001", "valid_days": 30 } },
                "ProofAnswer": { "type": "object", "properties": { "id": { "type": "string" }, "found": { "type": "boolean" }, "answer": { "type": "string" }, "holder": { "type": "string" }, "subject_code": { "type": "string" }, "token": { "type": "string" }, "pdf_record": { "type": "string" }, "token_record": { "type": "string" }, "use_record": { "type": "string" }, "pdf_url": { "type": "string" } } },
                "SubjectQuery": { "type": "object", "required": ["subject"], "additionalProperties": false, "properties": { "subject": { "type": "string" } }, "example": { "subject": "370902199001011235" } },
                "CommitRequest": { "type": "object", "required": ["subject", "matter", "statement"], "additionalProperties": false, "properties": {
                    "subject": { "type": "string", "description": "ID number or USCC; never logged" },
                    "matter": { "type": "string", "description": "matter code (事项) with a commitment rule on the list of uses" },
                    "statement": { "type": "string", "maxLength": 200 },
                    "check_days": { "type": "integer", "minimum": 1, "maximum": 3650 },
                    "by": { "type": "string", "description": "optional; must be the token's department" } },
                    "example": { "subject": "370902199001011235", "matter": "370900-XK-0001", "statement": "本人承诺：本人社会保险参保状态正常。", "check_days": 90 } },
                "ShareQuery": { "type": "object", "required": ["holder", "purpose"], "additionalProperties": false, "properties": { "holder": { "type": "string" }, "purpose": { "type": "string" } }, "example": { "holder": "91370900MA3C00001T", "purpose": "370900-XK-0012" } },
                "ShareLink": { "type": "object", "required": ["identifier", "purpose"], "additionalProperties": false, "properties": {
                    "identifier": { "type": "string" }, "purpose": { "type": "string" },
                    "ttl_secs": { "type": "integer", "minimum": 1, "maximum": 900 }, "valid_days": { "type": "integer", "minimum": 1, "maximum": 366 } },
                    "example": { "identifier": "1.2.156.3005.2.11100000MB0341032Y001.11370900MB28570021.20261126KEEF65S507.001.Z", "purpose": "370900-XK-0012" } },
                "Issued": { "type": "object", "properties": { "id": { "type": "string" }, "archive_id": { "type": "string" }, "identifier": { "type": "string" }, "pdf_base64": { "type": "string" } } }
            }
        }
    })
}

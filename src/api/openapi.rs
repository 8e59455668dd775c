//! The OpenAPI 3.1 description served at /openapi.json, derived with utoipa: each handler's
//! `#[utoipa::path]` (path, method, summary, who may call it, request media types, success and
//! specific error responses) and the body types' `#[derive(ToSchema)]`, collected by the same
//! `utoipa_axum::OpenApiRouter` that builds the router ([`super::api_routes`]), so no route is
//! served undescribed and no description lacks its route. [`finish`] then adds what every
//! operation shares because the middleware does it to every request: RFC 9457 problem responses
//! (400, 413, 429; 401/403 with a token; 404 with a path parameter), the `{name}` path parameters,
//! operation ids, and the "Who:" line named by the `bearer` requirement's roles.
//!
//! Knows paths, methods, roles and shapes; nothing else. OpenAPI 3.1 (a non-OAuth security
//! requirement may list role names); problems are RFC 9457.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, ToSchema};

/// The roles a token may carry, as named in `security(("bearer" = [ROLE, …]))`.
pub const ROLES: [&str; 5] = ["department", "archivist", "ca-operator", "holder-app", "foreign"];

/// The description's frame: title, version, the Problem schema.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "zhengyin 证印",
        description = "Electronic licences sealed with PAdES: issue, joint seals, verification, revocation, trust lists, archive. See docs/api.md."
    ),
    components(schemas(super::problem::Problem))
)]
struct Frame;

/// The starting document the router's operations are added to.
pub fn frame() -> utoipa::openapi::OpenApi {
    Frame::openapi()
}

/// Raw bytes in a request or response (a PDF, a DER structure): `{type: string, format: binary}`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);

/// Any JSON object (the handlers' answers are built as `serde_json::Value`; docs/api.md lists
/// their fields).
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub struct JsonObject(#[allow(dead_code)] Map<String, Value>);

/// The upload form of POST /verify.
#[derive(ToSchema)]
pub struct Upload {
    /// The PDF to verify.
    #[schema(value_type = String, format = Binary)]
    pub pdf: Vec<u8>,
}

/// A schema for a string that is one of `values` (constants of the library: revocation reasons,
/// presentation fields, lifecycle actions).
pub fn one_of(values: &[&str]) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied()))
}

/// `fields` of a presentation request: at least one of `licence::presentation::FIELDS`.
pub fn presentation_fields() -> impl Into<RefOr<Schema>> {
    let names: Vec<&str> = crate::licence::presentation::FIELDS.iter().map(|(f, _)| *f).collect();
    ArrayBuilder::new().items(one_of(&names)).min_items(Some(1))
}

/// The reason of a revocation: one of `pki::revoke::REASONS`, or absent.
pub fn revocation_reason() -> impl Into<RefOr<Schema>> {
    one_of(crate::pki::revoke::REASONS)
}

/// The lifecycle actions of POST /v1/licences/{id}/status.
pub fn status_action() -> impl Into<RefOr<Schema>> {
    one_of(&["change", "renew", "reissue", "cancel", "revoke", "suspend", "resume"])
}

/// A date-time string (RFC 3339).
pub fn date_time() -> impl Into<RefOr<Schema>> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

fn problem_response() -> Value {
    json!({ "description": "RFC 9457 problem", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } })
}

/// What every operation shares (see the module comment), applied to the derived document.
pub fn finish(api: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).unwrap_or_else(|_| json!({}));
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    doc["components"]["securitySchemes"] = json!({ "bearer": { "type": "http", "scheme": "bearer",
        "description": "API token from `zhengyin token create --role ROLE`; each operation's requirement lists the roles it accepts" } });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(ops) = item.as_object_mut() else { continue };
            for (method, op) in ops.iter_mut() {
                operation(path, method, op);
            }
        }
    }
    doc
}

fn operation(path: &str, method: &str, op: &mut Value) {
    op["operationId"] = json!(format!("{method}{}", path.replace(['/', '{', '}', '-', '.'], "_")));
    op.as_object_mut().map(|o| o.remove("tags"));
    let roles: Vec<String> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|req| req.get("bearer").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect();
    let who = if roles.is_empty() {
        op["security"] = json!([]);
        "public".to_string()
    } else if roles.len() == ROLES.len() {
        "any token".to_string()
    } else {
        roles.join(", ")
    };
    let more = op.get("description").and_then(Value::as_str).map(|d| format!(" {d}")).unwrap_or_default();
    op["description"] = json!(format!("Who: {who}.{more}"));
    for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
        if p["in"] == "query" && p["name"] == "revocation" {
            p["schema"] = json!({ "type": "string", "enum": crate::trust::RevocationPolicy::NAMES });
        }
    }
    let names: Vec<&str> =
        path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
    let params = op.as_object_mut().map(|o| o.entry("parameters").or_insert_with(|| json!([])));
    if let Some(Value::Array(params)) = params {
        for name in &names {
            if !params.iter().any(|p| p["name"] == *name && p["in"] == "path") {
                params.push(
                    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }),
                );
            }
        }
        if params.is_empty() {
            op.as_object_mut().map(|o| o.remove("parameters"));
        }
    }
    if super::pages::is_page(path) {
        return; // the pages answer refusals as HTML pages, declared by their annotations
    }
    let mut codes = vec!["400", "413", "429"];
    if !roles.is_empty() {
        codes.extend(["401", "403"]);
    }
    if !names.is_empty() {
        codes.push("404");
    }
    if let Some(responses) = op["responses"].as_object_mut() {
        for code in codes {
            responses.entry(code).or_insert_with(problem_response);
        }
    }
}

/// The document served at /openapi.json (built once).
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| finish(super::api_routes().into_openapi()))
}

/// Every described operation as (method, path), in the document's order.
pub fn operations() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in spec()["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            out.push((method.clone(), path.clone()));
        }
    }
    out
}

/// The routes whose request body is JSON (`application/json`), in the document's order: the
/// `http_json` fuzz target's route list (`api::bodies::json_routes`).
pub fn json_body_routes() -> Vec<String> {
    let mut out = Vec::new();
    for (path, item) in spec()["paths"].as_object().into_iter().flatten() {
        for (_, op) in item.as_object().into_iter().flatten() {
            if op["requestBody"]["content"].get("application/json").is_some() && !out.contains(path) {
                out.push(path.clone());
            }
        }
    }
    out
}

//! Every JSON response the tests receive is checked against the served OpenAPI document.
//!
//! The request helpers ([`crate::TestApp::request`], [`crate::merchant::MerchantClient`])
//! hand each response to [`check`]: when its body is JSON, the (method, path, status) must
//! be documented and the body must match the documented `application/json` schema of that
//! response. The document comes from `otcpay::openapi::document_json()` (no HTTP), read
//! once per process; a validator is compiled (JSON Schema 2020-12, with `$ref`s into
//! `components`) the first time a (path, method, status) is seen, then cached.
//!
//! The check is stricter than the document: an object whose schema lists its properties
//! may not carry others (the document leaves room for additions; the server may not add a
//! field without documenting it).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use reqwest::{Method, Response};
use serde_json::{Map, Value, json};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

struct Contract {
    doc: Value,
    /// `(template segments, template)` of every documented path.
    paths: Vec<(Vec<String>, String)>,
    /// Compiled validators by `(template, method, status)`, compiled on first use.
    validators: Mutex<HashMap<(String, String, String), Arc<Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let text = otcpay::openapi::document_json().expect("the OpenAPI document builds");
        let doc: Value = serde_json::from_str(text).expect("the document is JSON");
        let paths = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|template| (segments(template), template.clone()))
            .collect();
        Contract {
            doc,
            paths,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

fn segments(path: &str) -> Vec<String> {
    path.split('/').map(str::to_owned).collect()
}

/// The documented template that `path` (without its query) matches: the one with the
/// most literal segments when several do (`/a/{id}` vs `/a/b`).
pub fn template_of(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let wanted: Vec<&str> = path.split('/').collect();
    contract()
        .paths
        .iter()
        .filter(|(parts, _)| {
            parts.len() == wanted.len()
                && parts
                    .iter()
                    .zip(&wanted)
                    .all(|(part, seg)| (part.starts_with('{') && !seg.is_empty()) || part == seg)
        })
        .max_by_key(|(parts, _)| parts.iter().filter(|p| !p.starts_with('{')).count())
        .map(|(_, template)| template.as_str())
}

/// The whole document.
pub fn document() -> &'static Value {
    &contract().doc
}

/// Checks a response (see the module doc) and gives it back, body untouched. Responses
/// that are not JSON (pages, event streams, metrics) pass as they are.
pub async fn check(method: &Method, path: &str, response: Response) -> Response {
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return response;
    }
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("response body");
    let body: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!("{method} {path} → {status}: the JSON body does not parse: {e}")
    });
    if let Err(problem) = validate(method.as_str(), path, status.as_u16(), &body) {
        panic!("{method} {path} → {status}: {problem}\nbody: {body}");
    }
    let mut rebuilt = http::Response::new(bytes);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Response::from(rebuilt)
}

/// Validates a JSON body answered to `method path` with `status` against the document.
pub fn validate(method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
    let method = method.to_ascii_lowercase();
    let status = status.to_string();
    let contract = contract();
    let Some(template) = template_of(path) else {
        // No documented path: the router's default answer, `404 not_found`.
        return if status == "404" {
            run(
                contract,
                ("".into(), "".into(), status),
                body,
                || json!({"$ref": "#/components/schemas/Error"}),
            )
        } else {
            Err(format!("an undocumented path answered {status} with JSON"))
        };
    };
    let item = &contract.doc["paths"][template];
    let Some(operation) = item
        .get(&method)
        .filter(|_| METHODS.contains(&method.as_str()))
    else {
        // A documented path with another method: `405` (components.responses).
        return if status == "405" {
            run(contract, (template.into(), method, status), body, || {
                media_schema(&contract.doc["components"]["responses"]["MethodNotAllowed"])
            })
        } else {
            Err(format!(
                "{template} documents no {method}, yet it answered {status} with JSON"
            ))
        };
    };
    let Some(response) = operation["responses"]
        .get(&status)
        .or_else(|| operation["responses"].get("default"))
    else {
        return Err(format!(
            "{method} {template} does not document status {status}"
        ));
    };
    let response = resolve(&contract.doc, response);
    if response["content"].get("application/json").is_none() {
        return Err(format!(
            "{method} {template} {status} documents no application/json body"
        ));
    }
    run(contract, (template.into(), method, status), body, || {
        media_schema(response)
    })
}

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {reference}")),
        None => value,
    }
}

fn media_schema(response: &Value) -> Value {
    response["content"]["application/json"]["schema"].clone()
}

fn run(
    contract: &Contract,
    key: (String, String, String),
    body: &Value,
    schema: impl FnOnce() -> Value,
) -> Result<(), String> {
    let validator = {
        let mut cache = contract.validators.lock().expect("validator cache");
        match cache.get(&key) {
            Some(validator) => validator.clone(),
            None => {
                let validator = Arc::new(compile(&contract.doc, schema()));
                cache.insert(key, validator.clone());
                validator
            }
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the body does not match its schema:\n{}",
            errors.join("\n")
        ))
    }
}

/// A validator of `schema` whose `#/components/…` references resolve into the document.
fn compile(doc: &Value, schema: Value) -> Validator {
    let mut opened = BTreeSet::new();
    let mut components = doc["components"]["schemas"].clone();
    close_objects(&mut components, &mut opened);
    let mut schema = schema;
    close_objects(&mut schema, &mut opened);
    // The open twins of the components an `allOf` composes.
    let open: Map<String, Value> = opened
        .into_iter()
        .map(|name| {
            let mut twin = components[&name].clone();
            if let Some(map) = twin.as_object_mut() {
                map.remove("unevaluatedProperties");
            }
            (name, twin)
        })
        .collect();
    let root = json!({
        "allOf": [schema],
        "components": {"schemas": components, "open": open},
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("a schema of the document does not compile: {e}"))
}

/// Forbids undocumented properties: every object schema that lists `properties` (or
/// composes others with `allOf`) without saying anything of others gets
/// `unevaluatedProperties: false`, which sees through the `allOf`. The members of an
/// `allOf` stay open (a member that is a `$ref` is pointed to the open twin of its
/// component, `#/components/open/…`, whose names are collected in `opened`).
fn close_objects(value: &mut Value, opened: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            let lists = map.contains_key("properties") || map.contains_key("allOf");
            let open = !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties");
            if lists && open {
                map.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "allOf" => {
                        for member in child.as_array_mut().into_iter().flatten() {
                            open_member(member, opened);
                        }
                    }
                    // Data, not schemas.
                    "example" | "examples" | "default" | "enum" | "const" => {}
                    _ => close_objects(child, opened),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| close_objects(v, opened)),
        _ => {}
    }
}

fn open_member(member: &mut Value, opened: &mut BTreeSet<String>) {
    close_objects(member, opened);
    let Some(map) = member.as_object_mut() else {
        return;
    };
    map.remove("unevaluatedProperties");
    if let Some(Value::String(reference)) = map.get_mut("$ref")
        && let Some(name) = reference.strip_prefix("#/components/schemas/")
    {
        opened.insert(name.to_owned());
        *reference = format!("#/components/open/{name}");
    }
}

//! The document's own checks: unique operation ids with error tables, 3.1 with errors
//! and headers, every `$ref` resolving.

use super::*;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn every_operation_has_an_error_table_entry_and_every_entry_an_operation() {
    let doc = serde_json::to_value(document().unwrap()).unwrap();
    let ids: Vec<String> = operations(&doc)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique");
    let entries: Vec<&str> = paths::ERROR_TABLES
        .iter()
        .flat_map(|t| t.iter().map(|(id, _)| *id))
        .collect();
    for id in &ids {
        assert!(entries.contains(&id.as_str()), "no ERRORS entry for {id}");
    }
    for entry in &entries {
        assert!(
            ids.iter().any(|id| id == entry),
            "ERRORS entry {entry} names no operation"
        );
    }
}

#[test]
fn the_document_is_3_1_with_errors_and_headers() {
    let doc = serde_json::to_value(document().unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "OTCPay");
    let create = &doc["paths"]["/api/v1/orders"]["post"];
    assert_eq!(
        create["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
    assert!(create["responses"]["201"]["headers"]["X-RateLimit-Limit"].is_object());
    assert!(create["responses"]["429"]["headers"]["Retry-After"].is_object());
    let examples = &create["responses"]["400"]["content"]["application/json"]["examples"];
    assert_eq!(
        examples["invalid_amount"]["value"]["error"]["param"],
        "amount"
    );
    assert!(doc["webhooks"]["merchantWebhook"]["post"].is_object());
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    let confirm = &doc["paths"]["/api/v1/acceptor/orders/{id}/confirm"]["post"];
    assert_eq!(confirm["requestBody"]["required"], false);
    let json = document_json().unwrap();
    let order = json.find("\"Order\":{").unwrap();
    let id = json[order..].find("\"id\"").unwrap();
    let status = json[order..].find("\"status\"").unwrap();
    assert!(
        id < status,
        "schema properties keep their declaration order"
    );
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    let doc = serde_json::to_value(document().unwrap()).unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    let dangling: Vec<&String> = all
        .iter()
        .filter(|r| doc.pointer(r.trim_start_matches('#')).is_none())
        .collect();
    assert!(dangling.is_empty(), "{dangling:?}");
}

//! The committed spec is the generated one, and it documents what clients need.

use serde_json::Value;

use crate::common::{TestApp, get};

const REGENERATE: &str = "cargo run -- openapi > openapi/openapi.json";

#[test]
fn the_committed_spec_is_current() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap_or_default();
    let generated = lamina::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date; regenerate it with `{REGENERATE}`"
    );
}

#[actix_web::test]
async fn the_served_spec_is_the_committed_one() {
    let app = TestApp::new().await;
    let reply = get(&app.service().await, "/openapi.json").await;
    assert_eq!(reply.status, 200);
    let committed: Value = serde_json::from_str(&lamina::openapi::spec_json()).unwrap();
    assert_eq!(reply.json(), committed);
    let docs = get(&app.service().await, "/docs").await;
    assert_eq!(docs.status, 308);
    assert_eq!(docs.header("location"), Some("/docs/"));
    let ui = get(&app.service().await, "/docs/").await;
    assert_eq!(ui.status, 200);
    assert!(String::from_utf8_lossy(&ui.body).contains("swagger"));
}

fn spec() -> Value {
    serde_json::from_str(&lamina::openapi::spec_json()).unwrap()
}

#[test]
fn sections_are_a_discriminated_one_of() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let section = &spec["components"]["schemas"]["Section"];
    assert_eq!(section["discriminator"]["propertyName"], "kind");
    let one_of = section["oneOf"].as_array().unwrap();
    assert_eq!(one_of.len(), 8);
    let mapping = section["discriminator"]["mapping"].as_object().unwrap();
    for kind in lamina::content::SectionKind::ALL {
        let reference = mapping[kind.as_str()].as_str().unwrap();
        let name = reference.trim_start_matches("#/components/schemas/");
        let schema = &spec["components"]["schemas"][name];
        assert_eq!(
            schema["properties"]["kind"]["enum"],
            serde_json::json!([kind.as_str()]),
            "{name}"
        );
        assert!(one_of.iter().any(|variant| variant["$ref"] == reference));
    }
}

/// Every property of every schema says what it is and shows an example.
#[test]
fn every_schema_field_is_documented_with_an_example() {
    let spec = spec();
    let mut missing = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let parts = schema["allOf"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![schema.clone()]);
        for part in parts {
            for (field, property) in part["properties"].as_object().into_iter().flatten() {
                let documented = property.get("description").is_some()
                    || property.get("$ref").is_some()
                    || property["oneOf"]
                        .as_array()
                        .is_some_and(|variants| variants.iter().any(|v| v.get("description").is_some()));
                let composite = ["$ref", "items", "oneOf", "allOf", "enum"]
                    .iter()
                    .any(|key| property.get(*key).is_some())
                    || property["type"]
                        .as_array()
                        .is_some_and(|types| types.iter().any(|t| t == "object"));
                let has_example = property.get("example").is_some() || property.get("examples").is_some() || composite;
                if !documented || !has_example {
                    missing.push(format!("{name}.{field}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields without a description or example: {missing:?}"
    );
}

/// Every operation documents its error responses as problem+json.
#[test]
fn operations_document_problem_responses() {
    let spec = spec();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("503") || !path.starts_with("/v1/"),
                "{method} {path}"
            );
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

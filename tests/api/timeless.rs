//! Nothing a client is shown depends on today's date: every request example
//! of the spec is accepted by the server's own validation, today and with the
//! server's clock ten years ahead.
//!
//! The bodies are composed from the spec's examples the way Swagger UI and
//! schemathesis compose them (each property's example; one body per `oneOf`
//! member), sent to real resources, and must succeed.

use actix_web::http::Method;
use actix_web::test;
use chrono::TimeDelta;
use serde_json::{Map, Value, json};

use crate::common::{SEED, TestApp, bearer, get_as, put_as, send, write, write_as};

fn spec() -> Value {
    serde_json::from_str(&lamina::openapi::spec_json()).expect("the spec is JSON")
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &spec["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The example bodies of `schema`: one per `oneOf` member, properties from
/// their examples, arrays of one element (of every member, for arrays of a
/// `oneOf`: an article's sections).
pub(crate) fn examples(spec: &Value, schema: &Value) -> Vec<Value> {
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        return vec![example.clone()];
    }
    if let Some(example) = schema["examples"].as_array().and_then(|all| all.first()) {
        return vec![example.clone()];
    }
    if let Some(members) = schema["oneOf"].as_array() {
        return members.iter().flat_map(|member| examples(spec, member)).collect();
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Some(Value::Object(fields)) = examples(spec, part).into_iter().next() {
                merged.extend(fields);
            }
        }
        return vec![Value::Object(merged)];
    }
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().take(1).cloned().collect();
    }
    if let Some(properties) = schema["properties"].as_object() {
        let object = properties
            .iter()
            .filter_map(|(name, property)| Some((name.clone(), examples(spec, property).into_iter().next()?)))
            .collect();
        return vec![Value::Object(object)];
    }
    if schema.get("items").is_some() {
        return vec![Value::Array(examples(spec, &schema["items"]))];
    }
    Vec::new()
}

/// `path` with every parameter still in braces replaced by its example.
fn with_examples(path: &str, operation: &Value) -> String {
    let mut path = path.to_owned();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let example = parameter["schema"]["examples"][0]
            .as_str()
            .or(parameter["example"].as_str());
        if let (Some(name), Some(example)) = (parameter["name"].as_str(), example) {
            path = path.replace(&format!("{{{name}}}"), example);
        }
    }
    path
}

/// The id of the first item of the seed's section of `kind` as it is now.
async fn first_item<S, B>(service: &S, kind: &str) -> String
where
    S: crate::common::TestService<B>,
    B: actix_web::body::MessageBody,
{
    let section = crate::common::get(service, &format!("{SEED}/sections/{kind}"))
        .await
        .json();
    section["items"][0]["id"].as_str().unwrap_or("none").to_owned()
}

/// Sends every request-body example of the spec to a server whose clock is
/// `offset` ahead, on real resources, and returns what was refused.
async fn refused_examples(offset: TimeDelta) -> Vec<String> {
    let app = TestApp::new().await;
    let mut state = app.state();
    state.clock = lamina::clock::Clock::shifted(offset);
    // The example receiver's host is not looked up (tests have no network).
    state.webhook_allow_private = true;
    let service = test::init_service(lamina::build_app(state)).await;
    let token = app.token("admin", lamina::auth::Role::Admin).await;
    let slug = SEED.trim_start_matches("/v1/articles/");
    let release = crate::common::new_release(&service, &token, "Examples", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let webhook = write_as(
        &service,
        Method::POST,
        "/v1/webhooks",
        &token,
        &json!({"url": "http://127.0.0.1:9/", "events": ["*"]}),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(8, 8)
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("a PNG");
    let asset = send(
        &service,
        test::TestRequest::post()
            .uri("/v1/assets?filename=face.png")
            .insert_header(bearer(&token))
            .insert_header(("Content-Type", "image/png"))
            .set_payload(png.into_inner()),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The example locale falls back to `de`.
    let de = json!({"name": "Deutsch", "fallback": null});
    put_as(&service, "/v1/locales/de", &token, &de).await;

    let spec = spec();
    let mut refused = Vec::new();
    let mut tried = 0;
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let Some(schema) = operation["requestBody"]["content"]["application/json"].get("schema") else {
                continue;
            };
            for body in examples(&spec, schema) {
                let kind = body["kind"].as_str().unwrap_or("steps");
                let id = if template.starts_with("/v1/releases/") {
                    release.clone()
                } else if template.starts_with("/v1/webhooks/") {
                    webhook.clone()
                } else if template.starts_with("/v1/assets/") {
                    asset.clone()
                } else {
                    first_item(&service, kind).await
                };
                let path = with_examples(
                    &template
                        .replace("{slug}", slug)
                        .replace("{kind}", kind)
                        .replace("{id}", &id),
                    operation,
                );
                let method: Method = method.to_uppercase().parse().expect("a method");
                let mut request = write(method.clone(), &path, &token, &body);
                if method == Method::PUT {
                    request = request.insert_header(("If-Match", "*"));
                }
                let reply = send(&service, request).await;
                tried += 1;
                if !reply.status.is_success() {
                    refused.push(format!(
                        "{method} {template} ({kind}) → {}: {}\n  body: {body}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
            }
        }
    }
    assert!(tried >= 25, "only {tried} examples found: the composer lost its way");
    // Reads: query parameter examples are well formed (a 404 for an example
    // id is fine; a 400 or 422 would refuse the example itself).
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        let Some(parameters) = operations["get"]["parameters"].as_array() else {
            continue;
        };
        let query: Vec<String> = parameters
            .iter()
            .filter(|parameter| parameter["in"] == "query")
            .filter_map(|parameter| {
                let example = parameter.get("example").or(parameter["schema"].get("example"))?;
                Some(format!(
                    "{}={}",
                    parameter["name"].as_str()?,
                    crate::spec::query_value(example)
                ))
            })
            .collect();
        if query.is_empty() {
            continue;
        }
        let path = template
            .replace("{slug}", slug)
            .replace("{kind}", "steps")
            .replace("{id}", &first_item(&service, "steps").await);
        let uri = format!("{path}?{}", query.join("&"));
        let reply = get_as(&service, &uri, &token).await;
        if [400, 422].contains(&reply.status.as_u16()) {
            refused.push(format!(
                "GET {uri} → {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
    }
    refused
}

#[actix_web::test]
async fn every_spec_example_is_accepted_today() {
    let refused = refused_examples(TimeDelta::zero()).await;
    assert!(refused.is_empty(), "refused examples:\n{}", refused.join("\n"));
}

#[actix_web::test]
async fn every_spec_example_is_accepted_ten_years_from_now() {
    let refused = refused_examples(TimeDelta::days(3653)).await;
    assert!(refused.is_empty(), "refused examples:\n{}", refused.join("\n"));
}

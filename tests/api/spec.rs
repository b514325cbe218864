//! The committed spec is the generated one, and it documents what clients need.

use serde_json::{Value, json};

use crate::common::{TestApp, get, send, write};

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
    reply.assert_status(200);
    let committed: Value = serde_json::from_str(&lamina::openapi::spec_json()).unwrap();
    assert_eq!(reply.json(), committed);
    let docs = get(&app.service().await, "/docs").await;
    docs.assert_status(308);
    assert_eq!(docs.header("location"), Some("/docs/"));
    let ui = get(&app.service().await, "/docs/").await;
    ui.assert_status(200);
    assert!(String::from_utf8_lossy(&ui.body).contains("swagger"));
}

fn spec() -> Value {
    serde_json::from_str(&lamina::openapi::spec_json()).unwrap()
}

/// Fails listing `missing`, if any, as `what`.
fn none_missing(missing: &[String], what: &str) {
    assert!(missing.is_empty(), "{what}: {missing:?}");
}

/// Every operation of `spec`: its path, method and description.
fn operations(spec: &Value) -> impl Iterator<Item = (&String, &String, &Value)> {
    let paths = spec["paths"].as_object().unwrap();
    paths.iter().flat_map(|(path, item)| {
        item.as_object()
            .unwrap()
            .iter()
            .map(move |(method, operation)| (path, method, operation))
    })
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

/// Every `application/json` response of the spec: path, method, status,
/// the operation and the response's content.
fn json_responses(spec: &Value) -> Vec<(&str, &str, &str, &Value, &Value)> {
    let mut found = Vec::new();
    for (path, method, operation) in operations(spec) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            if let Some(content) = response.pointer("/content/application~1json") {
                found.push((path.as_str(), method.as_str(), status.as_str(), operation, content));
            }
        }
    }
    found
}

/// Without what the server makes when it stores the seed, which an example
/// cannot know: ids and timestamps.
fn without_server_values(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["id", "created_at", "updated_at"] {
                if map.contains_key(key) {
                    map.insert(key.to_owned(), Value::Null);
                }
            }
            map.values_mut().for_each(without_server_values);
        }
        Value::Array(items) => items.iter_mut().for_each(without_server_values),
        _ => {}
    }
}

/// What a client writes back after reading `read` from `path`: the read
/// without what the server owns (items keep their ids, so nothing changes).
fn read_back(path: &str, read: &Value) -> Value {
    let segments = path.trim_start_matches('/').split('/').count();
    let server_owned: &[&str] = match segments {
        3 => return crate::common::as_write(read),
        5 => &["id", "position", "version", "updated_at", "locale", "fallbacks"],
        _ => &["locale", "fallbacks"],
    };
    let mut body = read.clone();
    for key in server_owned {
        body.as_object_mut().unwrap().remove(*key);
    }
    body
}

/// The examples of reads and writes of the seed itself, which
/// [`response_examples_are_what_the_server_answers_for_the_seed`] checks by
/// value; [`every_other_response_example_is_what_the_server_answers`] checks
/// the rest.
const SEED_READS_AND_WRITES: [&str; 11] = [
    "get /v1/articles 200",
    "get /v1/articles/{slug} 200",
    "put /v1/articles/{slug} 200",
    "put /v1/articles/{slug} 201",
    "get /v1/articles/{slug}/sections 200",
    "get /v1/articles/{slug}/sections/{kind} 200",
    "put /v1/articles/{slug}/sections/{kind} 200",
    "put /v1/articles/{slug}/sections/{kind} 201",
    "get /v1/articles/{slug}/sections/{kind}/items/{id} 200",
    "put /v1/articles/{slug}/sections/{kind}/items/{id} 200",
    "get /v1/locales 200",
];

/// Every example response body is what a fresh server answers for the
/// seeded article (ids and timestamps aside): reads with the path
/// parameters' examples (an item's id, which has none, is the section's
/// first), writes of what was read back with `If-Match: *` (200, no
/// change). Fails when the seed, the read model or the examples drift apart.
#[actix_web::test]
async fn response_examples_are_what_the_server_answers_for_the_seed() {
    let app = TestApp::new().await;
    let service = app.service().await;
    let editor = app.editor().await;
    let spec = spec();
    let mut checked = Vec::new();
    for (path, method, status, operation, content) in json_responses(&spec) {
        let Some(example) = content.get("example") else {
            continue;
        };
        if !SEED_READS_AND_WRITES.contains(&format!("{method} {path} {status}").as_str()) {
            continue;
        }
        let mut url = path.to_owned();
        for parameter in operation["parameters"].as_array().unwrap() {
            if parameter["in"] == "path" {
                let name = parameter["name"].as_str().unwrap();
                if let Some(value) = parameter["example"].as_str() {
                    url = url.replace(&format!("{{{name}}}"), value);
                }
            }
        }
        if url.contains("{id}") {
            let section = get(&service, url.split("/items/").next().unwrap()).await.json();
            url = url.replace("{id}", section["items"][0]["id"].as_str().unwrap());
        }
        let reply = match method {
            "get" => get(&service, &url).await,
            "put" => {
                let body = read_back(&url, &get(&service, &url).await.json());
                let request = write(actix_web::http::Method::PUT, &url, &editor, &body);
                send(&service, request.insert_header(("If-Match", "*"))).await
            }
            _ => panic!("an example on {method} {path}"),
        };
        assert!(
            reply.status == 200 || reply.status == 201,
            "{method} {url}: {}",
            reply.status
        );
        let (mut answered, mut example) = (reply.json(), example.clone());
        without_server_values(&mut answered);
        without_server_values(&mut example);
        assert_eq!(
            example, answered,
            "{method} {path} {status}: the example is not what the server answers"
        );
        checked.push(format!("{method} {path} {status}"));
    }
    for expected in SEED_READS_AND_WRITES {
        assert!(
            checked.iter().any(|done| done == expected),
            "no example checked for {expected}: {checked:?}"
        );
    }
}

/// Every operation has a description besides its summary (the doc
/// comment's paragraphs after the first).
#[test]
fn every_operation_has_a_description() {
    let spec = spec();
    let undocumented = |operation: &Value| {
        let summary = operation["summary"].as_str().unwrap_or_default();
        summary.is_empty() || operation["description"].as_str().unwrap_or_default().trim().is_empty()
    };
    let missing: Vec<String> = operations(&spec)
        .filter(|(_, _, operation)| undocumented(operation))
        .map(|(path, method, _)| format!("{method} {path}"))
        .collect();
    none_missing(&missing, "operations without a summary and a description");
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
                    || ["oneOf", "anyOf"].iter().any(|key| {
                        property[*key]
                            .as_array()
                            .is_some_and(|variants| variants.iter().any(|v| v.get("description").is_some()))
                    });
                let composite = ["$ref", "items", "oneOf", "anyOf", "allOf", "enum"]
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
    none_missing(&missing, "fields without a description or example");
}

/// Every operation documents its error responses as problem+json.
#[test]
fn operations_document_problem_responses() {
    let spec = spec();
    for (path, method, operation) in operations(&spec) {
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

/// API.md §12: every `oneOf` is discriminated (items too), always-present
/// fields are required, the protocol headers and optional security of public
/// reads are declared, and `servers` is present.
#[test]
fn the_spec_gives_generated_clients_what_they_need() {
    let spec = spec();
    fn walk<'a>(value: &'a Value, found: &mut Vec<&'a Value>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("oneOf") {
                    found.push(value);
                }
                map.values().for_each(|v| walk(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut one_ofs = Vec::new();
    walk(&spec["components"], &mut one_ofs);
    assert!(one_ofs.len() >= 4);
    for one_of in one_ofs {
        assert!(
            one_of.get("discriminator").is_some(),
            "a oneOf without discriminator: {one_of}"
        );
    }
    let item = &spec["components"]["schemas"]["Item"];
    assert_eq!(item["discriminator"]["propertyName"], "kind");
    assert_eq!(
        spec["components"]["schemas"]["ExpectationsItem"]["properties"]["kind"]["enum"],
        serde_json::json!(["expectations"])
    );
    for (schema, field) in [
        ("StepsSection", "intro"),
        ("TargetAudiencesSection", "note"),
        ("ConclusionSection", "call_to_action"),
        ("ExpectationsSection", "phase_headings"),
        ("ArticlePage", "next_cursor"),
        ("StepsItem", "kind"),
    ] {
        let required = spec["components"]["schemas"][schema]["required"].as_array().unwrap();
        assert!(
            required.iter().any(|name| name == field),
            "{schema}.{field} is not required"
        );
    }
    assert!(!spec["servers"].as_array().unwrap().is_empty());
    for (path, method, operation) in operations(&spec) {
        let names: Vec<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"X-Request-Id"), "{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        if method == "get" && responses.contains_key("304") {
            assert!(
                names.contains(&"If-None-Match") && names.contains(&"If-Modified-Since"),
                "{path}"
            );
            assert_eq!(responses["200"]["headers"]["ETag"]["required"], true, "{path}");
            if path.starts_with("/v1/") && !path.contains("revisions") {
                assert_eq!(operation["security"], serde_json::json!([{}, {"bearer": []}]), "{path}");
            }
        }
        for (status, header) in [
            ("401", "WWW-Authenticate"),
            ("429", "Retry-After"),
            ("429", "RateLimit-Reset"),
            ("503", "Retry-After"),
        ] {
            if let Some(response) = responses.get(status) {
                assert!(
                    response["headers"].get(header).is_some(),
                    "{method} {path} {status} {header}"
                );
            }
        }
    }
}

/// Problem codes are a closed set the spec lists, sent ones included.
#[test]
fn problem_codes_are_listed() {
    let spec = spec();
    let codes = spec["components"]["schemas"]["Code"]["enum"].as_array().unwrap();
    for code in [
        "unreadable_body",
        "conflict",
        "unknown_query_parameter",
        "article_not_found",
        "request_timeout",
    ] {
        assert!(codes.iter().any(|listed| listed == code), "{code} is not listed");
    }
    // The README's table explains every code.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for code in codes {
        let row = format!("| `{}` |", code.as_str().unwrap());
        assert!(readme.contains(&row), "README's problem table has no row {row}");
    }
    // Today's codes, or any string: a client generated today decodes a code added later.
    let code = &spec["components"]["schemas"]["Problem"]["properties"]["code"];
    assert_eq!(code["anyOf"][0]["$ref"], "#/components/schemas/Code");
    assert_eq!(code["anyOf"][1], serde_json::json!({"type": "string"}));
}

/// Routes reach the database only through the domain (`content`), which
/// owns every query: no file under `src/routes/` imports or names
/// `db::schema` (also not as `db::{…, schema, …}`).
#[test]
fn routes_name_no_table() {
    fn files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }
    let mut sources = Vec::new();
    files(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes")),
        &mut sources,
    );
    assert!(sources.len() >= 10, "the routes were not found: {sources:?}");
    let offenders: Vec<String> = sources
        .iter()
        .filter(|path| {
            let text: String = std::fs::read_to_string(path)
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            text.contains("db::schema")
                || text.match_indices("db::{").any(|(at, _)| {
                    text[at..]
                        .split('}')
                        .next()
                        .is_some_and(|group| group.contains("schema"))
                })
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "routes must leave queries to src/content (HTTP-agnostic); these name db::schema: {offenders:?}"
    );
}

/// No circle between the files of `src/`: following the paths a file names
/// (`use crate::…`, `use super::…`, and such paths written out in the code)
/// from file to file never comes back to where it started, so each file
/// can be read knowing only what it builds on. A path into a module names
/// the file of the longest module it names; tests inside a file do not count.
#[test]
fn src_files_import_no_circle() {
    use std::collections::{BTreeMap, BTreeSet};

    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                let relative = path.strip_prefix(root).unwrap().with_extension("");
                let mut module: Vec<String> = relative
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    module.pop();
                }
                files.insert(module.join("::"), path);
            }
        }
    }
    assert!(files.len() >= 40, "the sources were not found: {}", files.len());
    // `crate::a::b` or `super::c` as seen from `module`: the longest module it names.
    let resolve = |module: &str, path: &str| -> Option<String> {
        let mut base: Vec<&str> = if module.is_empty() {
            vec![]
        } else {
            module.split("::").collect()
        };
        let mut parts = path.split("::").peekable();
        match parts.next()? {
            "crate" => base.clear(),
            "super" => {
                base.pop();
                while parts.next_if_eq(&"super").is_some() {
                    base.pop();
                }
            }
            _ => return None,
        }
        let mut found = None;
        let mut name: Vec<&str> = base;
        loop {
            let joined = name.join("::");
            if files.contains_key(&joined) {
                found = Some(joined);
            }
            match parts.next() {
                Some(part) => name.push(part),
                None => return found,
            }
        }
    };
    // Each `use` tree spelled out (`a::{b, c::{d}}` → `a::b`, `a::c::d`).
    fn spell(tree: &str, prefix: &str, out: &mut Vec<String>) {
        let tree = tree.trim();
        match tree.find('{') {
            None => out.push(format!("{prefix}{}", tree.split(" as ").next().unwrap_or(tree).trim())),
            Some(open) => {
                let head = &tree[..open];
                let close = tree.rfind('}').filter(|close| *close > open).unwrap_or(tree.len());
                let inner = &tree[open + 1..close];
                let (mut depth, mut start) = (0, 0);
                for (at, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            spell(&inner[start..at], &format!("{prefix}{head}"), out);
                            start = at + 1;
                        }
                        _ => {}
                    }
                }
                if !inner[start..].trim().is_empty() {
                    spell(&inner[start..], &format!("{prefix}{head}"), out);
                }
            }
        }
    }
    let mut arrows: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
        let code: String = text
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut paths = Vec::new();
        let mut rest = code.as_str();
        while let Some(at) = rest.find("use ") {
            let line_start = rest[..at].rfind('\n').map_or(0, |newline| newline + 1);
            let before = rest[line_start..at].trim();
            let statement_end = rest[at..].find(';').map_or(rest.len(), |length| at + length);
            if before.is_empty() || before.starts_with("pub") {
                spell(&rest[at + 4..statement_end].replace('\n', " "), "", &mut paths);
            }
            rest = &rest[(at + 4).min(statement_end)..];
        }
        for (at, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |length| at + length);
            paths.push(code[at..end].trim_end_matches(':').to_owned());
        }
        for named in paths {
            if let Some(target) = resolve(module, &named).filter(|target| target != module) {
                arrows.entry(module).or_default().insert(target);
            }
        }
    }
    // A file from which its own file can be reached is on a circle.
    let mut on_circle = Vec::new();
    for start in files.keys() {
        let mut seen = BTreeSet::new();
        let mut next: Vec<&String> = arrows.get(start.as_str()).into_iter().flatten().collect();
        while let Some(module) = next.pop() {
            if seen.insert(module.clone()) {
                next.extend(arrows.get(module.as_str()).into_iter().flatten());
            }
        }
        if seen.contains(start) {
            on_circle.push(start.clone());
        }
    }
    assert!(
        on_circle.is_empty(),
        "these files of src/ import each other in a circle: {on_circle:?}; their arrows: {:?}",
        on_circle
            .iter()
            .map(|module| (module, &arrows[module.as_str()]))
            .collect::<Vec<_>>()
    );
}

/// Whether `text` is a UUID.
fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::parse_str(text).is_ok()
}

/// `text` with each UUID in it replaced by `{uuid}` (ids, and URLs made of them).
fn without_uuids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && is_uuid(&rest[..36]) {
            out.push_str("{uuid}");
            rest = &rest[36..];
        } else {
            let next = rest.chars().next().unwrap();
            out.push(next);
            rest = &rest[next.len_utf8()..];
        }
    }
    out
}

/// Fields whose values a fresh server makes anew each time (secrets,
/// request ids, opaque cursors bound to the database, ranks, file digests):
/// only their type is compared.
const UNFIXABLE: [&str; 8] = [
    "secret",
    "request_id",
    "next_cursor",
    "score",
    "snippet",
    "sha256",
    "placeholder",
    "bytes",
];

/// Where `example` and `answered` differ: the same keys recursively, the
/// same types, and equal values except ids (UUIDs, also inside strings),
/// timestamps (RFC 3339) and the [`UNFIXABLE`] fields, whose type only counts.
fn differences(at: &str, example: &Value, answered: &Value, found: &mut Vec<String>) {
    let loose = at.split('/').any(|segment| UNFIXABLE.contains(&segment));
    match (example, answered) {
        (Value::Object(example), Value::Object(answered)) => {
            let keys = |map: &serde_json::Map<String, Value>| map.keys().cloned().collect::<Vec<_>>();
            if keys(example) != keys(answered) {
                found.push(format!(
                    "{at}: keys {:?} != answered {:?}",
                    keys(example),
                    keys(answered)
                ));
                return;
            }
            for (key, value) in example {
                differences(&format!("{at}/{key}"), value, &answered[key], found);
            }
        }
        (Value::Array(example), Value::Array(answered)) if loose => {
            for (value, answered) in example.iter().zip(answered) {
                differences(&format!("{at}/*"), value, answered, found);
            }
        }
        (Value::Array(example), Value::Array(answered)) => {
            if example.len() != answered.len() {
                found.push(format!("{at}: {} items != answered {}", example.len(), answered.len()));
                return;
            }
            for (index, (value, answered)) in example.iter().zip(answered).enumerate() {
                differences(&format!("{at}/{index}"), value, answered, found);
            }
        }
        (Value::String(example), Value::String(answered)) => {
            let time = |text: &str| chrono::DateTime::parse_from_rfc3339(text).is_ok();
            let same = loose || (time(example) && time(answered)) || without_uuids(example) == without_uuids(answered);
            if !same {
                found.push(format!("{at}: {example:?} != answered {answered:?}"));
            }
        }
        (Value::Number(_), Value::Number(_)) if loose => {}
        (Value::Null, Value::Null) => {}
        _ if example == answered => {}
        _ => found.push(format!("{at}: {example} != answered {answered}")),
    }
}

/// A query parameter's `example` as sent: a string as it is, a list joined
/// by commas (`style: form, explode: false`), anything else as JSON.
pub(crate) fn query_value(example: &Value) -> String {
    match example {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(query_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `url` with the examples of the operation's query parameters in the spec
/// (the parameter's, else its schema's first; lists joined by commas, as
/// `style: form, explode: false` sends them).
fn with_query_examples(spec: &Value, path: &str, method: &str, url: &str) -> String {
    let mut query = Vec::new();
    for parameter in spec["paths"][path][method]["parameters"].as_array().unwrap() {
        if parameter["in"] != "query" {
            continue;
        }
        let example = match &parameter["example"] {
            Value::Null => &parameter["schema"]["examples"][0],
            example => example,
        };
        if example.is_null() {
            continue;
        }
        query.push(format!(
            "{}={}",
            parameter["name"].as_str().unwrap(),
            query_value(example)
        ));
    }
    if query.is_empty() {
        url.to_owned()
    } else {
        format!("{url}?{}", query.join("&"))
    }
}

/// What a fresh server answers, by `method path status`, to the requests
/// each of the other examples shows: a run through every operation that
/// has one, from the seed alone. Public reads send the examples of every
/// query parameter, anonymously (each must succeed).
async fn answers(spec: &Value) -> Vec<(String, Value)> {
    use actix_web::http::Method;

    use crate::common::{SEED, as_write, get_as, write_as};

    let mut app = TestApp::new().await;
    app.config.webhook_allow_private = true;
    let service = app.service().await;
    let editor = app.editor().await;
    let admin = app.token("admin", lamina::auth::Role::Admin).await;
    let mut answers = Vec::new();
    let mut keep = |key: &str, status: u16, reply: crate::common::Reply| -> Value {
        reply.assert_status(status);
        let body = reply.json();
        answers.push((format!("{key} {status}"), body.clone()));
        body
    };
    let with_match = |method: Method, url: &str, token: &str, body: &Value| {
        write(method, url, token, body).insert_header(("If-Match", "*"))
    };

    keep("get /healthz", 200, get(&service, "/healthz").await);
    keep("get /readyz", 200, get(&service, "/readyz").await);
    let search = with_query_examples(spec, "/v1/search", "get", "/v1/search");
    keep("get /v1/search", 200, get(&service, &search).await);
    let sync = with_query_examples(spec, "/v1/sync", "get", "/v1/sync");
    keep("get /v1/sync", 200, get(&service, &sync).await);

    let revisions = format!("{SEED}/revisions");
    let page = keep(
        "get /v1/articles/{slug}/revisions",
        200,
        get_as(&service, &revisions, &editor).await,
    );
    let revision = format!("{revisions}/{}", page["items"][0]["id"].as_str().unwrap());
    keep(
        "get /v1/articles/{slug}/revisions/{id}",
        200,
        get_as(&service, &revision, &editor).await,
    );

    let locale = json!({"name": "Deutsch", "fallback": null});
    for status in [201, 200] {
        let request = write(Method::PUT, "/v1/locales/de", &admin, &locale);
        keep("put /v1/locales/{code}", status, send(&service, request).await);
    }
    let translations = format!("{SEED}/translations");
    keep(
        "get /v1/articles/{slug}/translations",
        200,
        get_as(&service, &translations, &editor).await,
    );
    let request = with_match(
        Method::PUT,
        &format!("{translations}/de"),
        &editor,
        &json!({"status": "published"}),
    );
    keep(
        "put /v1/articles/{slug}/translations/{locale}",
        200,
        send(&service, request).await,
    );

    let title = json!({"title": "Spring menu", "publish_at": null});
    let created = keep(
        "post /v1/releases",
        201,
        write_as(&service, Method::POST, "/v1/releases", &editor, &title).await,
    );
    let release = format!("/v1/releases/{}", created["id"].as_str().unwrap());
    let request = with_match(Method::PUT, &release, &editor, &title);
    keep("put /v1/releases/{id}", 200, send(&service, request).await);
    let article = as_write(&get(&service, SEED).await.json());
    let staged = format!("{release}/articles/explore-micro-needling-for-flawless-skin-today");
    let stage_article = write(Method::PUT, &staged, &editor, &article);
    keep(
        "put /v1/releases/{id}/articles/{slug}",
        200,
        send(&service, stage_article).await,
    );
    let section = read_back(
        &format!("{SEED}/sections/steps"),
        &get(&service, &format!("{SEED}/sections/steps")).await.json(),
    );
    let staged_section = format!("{staged}/sections/steps");
    keep(
        "put /v1/releases/{id}/articles/{slug}/sections/{kind}",
        200,
        send(&service, write(Method::PUT, &staged_section, &editor, &section)).await,
    );
    keep("get /v1/releases/{id}", 200, get_as(&service, &release, &editor).await);
    keep("get /v1/releases", 200, get_as(&service, "/v1/releases", &editor).await);
    keep(
        "delete /v1/releases/{id}/articles/{slug}/sections/{kind}",
        200,
        send(&service, write(Method::DELETE, &staged_section, &editor, &json!(null))).await,
    );
    keep(
        "delete /v1/releases/{id}/articles/{slug}",
        200,
        send(&service, write(Method::DELETE, &staged, &editor, &json!(null))).await,
    );
    send(&service, write(Method::PUT, &staged, &editor, &article))
        .await
        .assert_status(200);
    let publish = with_match(Method::POST, &format!("{release}/publish"), &editor, &json!(null));
    keep("post /v1/releases/{id}/publish", 200, send(&service, publish).await);

    let hook = json!({"url": "https://example.com/hooks/lamina", "events": ["article.updated"], "description": "Purge the CDN"});
    let created = keep(
        "post /v1/webhooks",
        201,
        write_as(&service, Method::POST, "/v1/webhooks", &admin, &hook).await,
    );
    let webhook = format!("/v1/webhooks/{}", created["id"].as_str().unwrap());
    keep("get /v1/webhooks/{id}", 200, get_as(&service, &webhook, &admin).await);
    keep(
        "put /v1/webhooks/{id}",
        200,
        send(&service, write(Method::PUT, &webhook, &admin, &hook)).await,
    );
    keep("get /v1/webhooks", 200, get_as(&service, "/v1/webhooks", &admin).await);
    keep(
        "post /v1/webhooks/{id}/rotate-secret",
        200,
        write_as(
            &service,
            Method::POST,
            &format!("{webhook}/rotate-secret"),
            &admin,
            &json!(null),
        )
        .await,
    );

    keep(
        "post /v1/webhooks/{id}/ping",
        202,
        write_as(&service, Method::POST, &format!("{webhook}/ping"), &admin, &json!(null)).await,
    );
    keep(
        "get /v1/webhooks/{id}/deliveries",
        200,
        get_as(&service, &format!("{webhook}/deliveries"), &admin).await,
    );

    let image = {
        let pixels = image::RgbImage::from_fn(160, 120, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        pixels.write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
        bytes.into_inner()
    };
    let upload = actix_web::test::TestRequest::post()
        .uri("/v1/assets?filename=face.jpg")
        .insert_header(("Content-Type", "image/jpeg"))
        .insert_header(crate::common::bearer(&editor))
        .set_payload(image);
    let created = keep("post /v1/assets", 201, send(&service, upload).await);
    let asset = format!("/v1/assets/{}", created["id"].as_str().unwrap());
    keep("get /v1/assets/{id}", 200, get_as(&service, &asset, &editor).await);
    let alt = json!({"alt": {"en": "A face after treatment"}});
    keep(
        "put /v1/assets/{id}",
        200,
        send(&service, with_match(Method::PUT, &asset, &editor, &alt)).await,
    );
    keep("get /v1/assets", 200, get_as(&service, "/v1/assets", &editor).await);

    let restore = format!("{revision}/restore");
    keep(
        "post /v1/articles/{slug}/revisions/{id}/restore",
        200,
        send(&service, with_match(Method::POST, &restore, &editor, &json!(null))).await,
    );
    send(&service, with_match(Method::DELETE, SEED, &editor, &json!(null)))
        .await
        .assert_status(204);
    keep(
        "post /v1/articles/{slug}/revisions/{id}/restore",
        201,
        write_as(&service, Method::POST, &restore, &editor, &json!(null)).await,
    );
    answers
}

/// Every JSON 200 and 201 of the spec has an example body, and each example
/// (of any status) besides the seed's reads and writes is what a fresh server answers to
/// the requests of [`answers`] (by [`differences`]).
#[actix_web::test]
async fn every_other_response_example_is_what_the_server_answers() {
    let spec = spec();
    let answers = answers(&spec).await;
    let mut problems = Vec::new();
    for (path, method, status, _, content) in json_responses(&spec) {
        let key = format!("{method} {path} {status}");
        let Some(example) = content.get("example") else {
            if status == "200" || status == "201" {
                problems.push(format!("{key}: no example"));
            }
            continue;
        };
        if SEED_READS_AND_WRITES.contains(&key.as_str()) {
            continue;
        }
        let Some((_, answered)) = answers.iter().find(|(done, _)| *done == key) else {
            problems.push(format!("{key}: not requested"));
            continue;
        };
        let mut found = Vec::new();
        differences("", example, answered, &mut found);
        if !found.is_empty() {
            problems.push(format!("{key}: {found:?}\n  answered: {answered}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every public read (one an anonymous caller may make) succeeds
/// anonymously with the examples of its path parameters and of all its
/// query parameters together, so whatever "Try it out" or a client copies
/// from the spec works on a fresh server (an item's id, which has no
/// example, is the section's first item's).
#[actix_web::test]
async fn public_reads_succeed_with_every_parameter_example() {
    let app = TestApp::new().await;
    let service = app.service().await;
    let spec = spec();
    let mut tried = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else { continue };
        let anonymous = operation["security"]
            .as_array()
            .is_some_and(|options| options.iter().any(|option| option == &json!({})));
        if !anonymous || !path.starts_with("/v1/") {
            continue;
        }
        let mut url = path.clone();
        for parameter in operation["parameters"].as_array().unwrap() {
            if parameter["in"] == "path"
                && let Some(value) = parameter["example"].as_str()
            {
                url = url.replace(&format!("{{{}}}", parameter["name"].as_str().unwrap()), value);
            }
        }
        if url.contains("/items/{id}") {
            let section = get(&service, url.split("/items/").next().unwrap()).await.json();
            url = url.replace("{id}", section["items"][0]["id"].as_str().unwrap());
        }
        if url.contains('{') {
            continue;
        }
        let url = with_query_examples(&spec, path, "get", &url);
        let reply = get(&service, &url).await;
        assert_eq!(reply.status, 200, "GET {url}: {}", String::from_utf8_lossy(&reply.body));
        tried.push(url);
    }
    assert!(
        tried.iter().any(|url| url.contains("kinds=steps,aftercare_tips")),
        "{tried:?}"
    );
    assert!(tried.len() >= 8, "{tried:?}");
    // `kinds`, like `sections`, is one comma-separated value of known kinds.
    get(&service, "/v1/search?q=sunscreen&kinds=steps&kinds=aftercare_tips")
        .await
        .assert_problem(400, "invalid_query");
    get(&service, "/v1/search?q=sunscreen&kinds=steps,bogus")
        .await
        .assert_problem(400, "invalid_sections");
}

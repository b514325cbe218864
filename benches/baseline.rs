//! The benchmark's baseline: a plain actix-web server answering from statics
//! the same bytes lamina serves, with the same ETags, so a load run measures
//! lamina's overhead over the cheapest possible server of the same stack.
//!
//! `cargo bench --bench baseline -- <port> <dir>` serves every `<dir>/<name>.json`
//! at `/<name>` and at the request target in `<dir>/<name>.path` (lamina's own
//! path and query, so both servers read the same requests), with the ETag in
//! `<dir>/<name>.etag`; `If-None-Match` → 304.
//! Run by `benches/run`, not by `cargo bench` alone.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

struct Static {
    body: web::Bytes,
    etag: String,
}

async fn serve(req: HttpRequest, statics: web::Data<Arc<HashMap<String, Arc<Static>>>>) -> HttpResponse {
    let target = req.uri().path_and_query().map_or("", |target| target.as_str());
    let Some(found) = statics.get(target) else {
        return HttpResponse::NotFound().finish();
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == found.etag);
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response.insert_header((header::ETAG, found.etag.as_str()));
    if matches {
        return response.finish();
    }
    response.content_type("application/json").body(found.body.clone())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; take the two positional arguments.
    let positional: Vec<&String> = args.iter().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let (Some(port), Some(dir)) = (positional.first(), positional.get(1)) else {
        eprintln!("usage: baseline <port> <dir> (run by benches/run)");
        return Ok(());
    };
    let mut statics = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            let etag = std::fs::read_to_string(path.with_extension("etag"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            let found = Arc::new(Static {
                body: std::fs::read(&path)?.into(),
                etag,
            });
            if let Ok(target) = std::fs::read_to_string(path.with_extension("path")) {
                statics.insert(target.trim().to_owned(), found.clone());
            }
            statics.insert(format!("/{name}"), found);
        }
    }
    let statics = web::Data::new(Arc::new(statics));
    let port: u16 = port.parse().map_err(std::io::Error::other)?;
    HttpServer::new(move || App::new().app_data(statics.clone()).default_service(web::to(serve)))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}

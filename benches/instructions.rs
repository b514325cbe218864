//! Work per request on the cached read path, for `.ci/instructions`, which
//! runs this under callgrind and counts instructions (not seconds: the count
//! is the same on a busy machine).
//!
//! `cargo bench --bench instructions -- <scenario> <n>` starts a throwaway
//! PostgreSQL cluster, migrates and seeds it, builds the whole application
//! (`build_app`, every middleware as `lamina serve` runs it), warms the cache,
//! then sends `n` requests of `<scenario>` in process and exits. Nothing but
//! the cache's listener runs in the background (no scheduler or worker), so
//! two runs with different `n` differ by the requests: the difference divided
//! by the difference of `n` is the cost of one request.

use actix_web::http::StatusCode;
use actix_web::test;

const SEED: &str = "/v1/articles/explore-micro-needling-for-flawless-skin-today";

/// The requests of a scenario: path and `If-None-Match`, the status expected.
fn scenario(name: &str, etag: &str, section_etag: &str, item: &str) -> Option<(String, Option<String>, StatusCode)> {
    Some(match name {
        "article" => (SEED.to_owned(), None, StatusCode::OK),
        "article-de" => (format!("{SEED}?locale=de"), None, StatusCode::OK),
        "section" => (format!("{SEED}/sections/steps"), None, StatusCode::OK),
        "item" => (format!("{SEED}/sections/steps/items/{item}"), None, StatusCode::OK),
        "list" => ("/v1/articles".to_owned(), None, StatusCode::OK),
        "revalidate" => (SEED.to_owned(), Some(etag.to_owned()), StatusCode::NOT_MODIFIED),
        "revalidate-section" => (
            format!("{SEED}/sections/steps"),
            Some(section_etag.to_owned()),
            StatusCode::NOT_MODIFIED,
        ),
        _ => return None,
    })
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let name = args.next().unwrap_or_else(|| "article".to_owned());
    let n: usize = args.next().map_or(Ok(100), |n| n.parse())?;
    lamina::logging::init();
    let cluster = lamina::db::cluster::PrivateCluster::throwaway()?;
    let url = cluster.url("postgres");
    // Migrations want a multi-threaded runtime: one of their own.
    let migrating = url.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?
            .block_on(lamina::db::migrate(&migrating))
            .map_err(|err| err.to_string())
    })
    .join()
    .map_err(|_| "the migration thread panicked")??;
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await?;
    lamina::content::seed::seed(&mut conn).await?;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("INSERT INTO locales (code, name) VALUES ('de', 'Deutsch')"),
        &mut conn,
    )
    .await?;
    drop(conn);

    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: lamina::config::Config,
    }
    let config = Cli::try_parse_from(["lamina"])?.config;
    let pool = lamina::db::build_pool(&url, 4)?;
    let mut state = lamina::AppState::new(pool, &config);
    {
        let mut conn = state.pool.get().await?;
        state
            .locales
            .set(lamina::content::locales::Locales::load(&mut conn).await?);
    }
    // The cache serves only while it hears other nodes' writes, as in `lamina serve`.
    // Under callgrind everything runs tens of times slower than the cache's
    // heartbeat assumes (an answer within 100 ms), so its entries would lapse
    // between heartbeats and the count would include misses: the measured
    // cache serves for a minute after each heartbeat (the check itself, the
    // same code, is counted).
    state.cache = std::sync::Arc::new(lamina::cache::RepresentationCache::with_staleness_bound(
        config.cache_max_bytes,
        std::time::Duration::from_secs(60),
    ));
    lamina::cache::spawn_listener(url.clone(), &state.cache).map_err(|err| err.to_string())?;
    let cache = state.cache.clone();
    let service = test::init_service(lamina::build_app(state)).await;
    while !cache.is_subscribed() {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let warm = |path: String| test::TestRequest::get().uri(&path).to_request();
    let etag_of = |headers: &actix_web::http::header::HeaderMap| {
        let etag = headers.get("etag").and_then(|value| value.to_str().ok());
        etag.unwrap_or_default().to_owned()
    };
    let etag = etag_of(test::call_service(&service, warm(SEED.to_owned())).await.headers());
    let section = test::call_service(&service, warm(format!("{SEED}/sections/steps"))).await;
    let section_etag = etag_of(section.headers());
    let section: serde_json::Value = serde_json::from_slice(&test::read_body(section).await)?;
    let item = section["items"][0]["id"].as_str().unwrap_or_default().to_owned();
    let (path, if_none_match, expected) =
        scenario(&name, &etag, &section_etag, &item).ok_or_else(|| format!("unknown scenario {name:?}"))?;
    // The first request of each path fills the cache; those measured are hits
    // of entries whose compressed variants are made (off the request path).
    test::call_service(&service, warm(path.clone())).await;
    while cache.compressing() > 0 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    LaminaMeasured(Box::pin(requests(
        &service,
        &path,
        if_none_match.as_deref(),
        expected,
        n,
    )))
    .await
    .map_err(|err| format!("{name}: {err}"))?;
    drop(cluster);
    Ok(())
}

/// A future whose polls are what `.ci/instructions` counts: callgrind
/// collects only while `LaminaMeasured::poll` is on the stack
/// (`--toggle-collect`), so start-up, clock calibration and background tasks
/// run between polls do not count.
struct LaminaMeasured<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for LaminaMeasured<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        self.0.as_mut().poll(cx)
    }
}

/// The measured requests.
async fn requests<S, B>(
    service: &S,
    path: &str,
    if_none_match: Option<&str>,
    expected: StatusCode,
    n: usize,
) -> Result<(), String>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let peer: std::net::SocketAddr = ([127, 0, 0, 1], 40000).into();
    for _ in 0..n {
        let mut request = test::TestRequest::get()
            .uri(path)
            .insert_header(("Accept-Encoding", "gzip, deflate, br"))
            .peer_addr(peer);
        if let Some(tag) = if_none_match {
            request = request.insert_header(("If-None-Match", tag));
        }
        let response = test::call_service(service, request.to_request()).await;
        if response.status() != expected {
            return Err(format!("{} instead of {expected}", response.status()));
        }
        test::read_body(response).await;
    }
    Ok(())
}

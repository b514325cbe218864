//! The test harness: one PostgreSQL server per test binary, one database per
//! test, cloned from a migrated template in milliseconds.
//!
//! With `TEST_DATABASE_URL` (or `DATABASE_URL`) set, databases are created on
//! that server; otherwise a throwaway private cluster is started, and removed
//! by a watchdog when the test binary exits.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use lamina::db::cluster::PrivateCluster;
use serde_json::Value;

const TEMPLATE: &str = "lamina_test_template";

struct Server {
    /// URL of a database on the server, with `{db}` where its name goes.
    url_pattern: String,
    /// Keeps the throwaway cluster's handle alive (its watchdog removes it).
    _cluster: Option<PrivateCluster>,
}

impl Server {
    fn url(&self, database: &str) -> String {
        self.url_pattern.replace("{db}", database)
    }
}

/// Replaces the database name of a `postgres://…/name?…` URL with `{db}`.
fn url_pattern(url: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(base, query)| (base, Some(query)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].rfind('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{{db}}?{query}"),
        None => format!("{base}/{{db}}"),
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // Runs on its own thread and runtime: migrations need a multi-threaded one.
        std::thread::spawn(start_server)
            .join()
            .expect("harness thread panicked")
            .unwrap_or_else(|err| panic!("{err}"))
    })
}

fn start_server() -> Result<Server, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let external = std::env::var("TEST_DATABASE_URL")
            .or_else(|_| std::env::var("DATABASE_URL"))
            .ok();
        let (url_pattern, cluster) = match external {
            Some(url) => (url_pattern(&url), None),
            None => {
                let cluster = PrivateCluster::throwaway().map_err(|err| format!("starting a test cluster: {err}"))?;
                (url_pattern(&cluster.url("postgres")), Some(cluster))
            }
        };
        let server = Server {
            url_pattern,
            _cluster: cluster,
        };
        // A template per test binary run; another run on the same server may be using its own.
        let template = format!("{TEMPLATE}_{}", std::process::id());
        let mut admin = AsyncPgConnection::establish(&server.url("postgres"))
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        drop_leftovers(&mut admin).await;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {template}"))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
        diesel::sql_query(format!("CREATE DATABASE {template}"))
            .execute(&mut admin)
            .await
            .map_err(|e| e.to_string())?;
        lamina::db::migrate(&server.url(&template))
            .await
            .map_err(|e| format!("migrating the template: {e}"))?;
        let mut conn = AsyncPgConnection::establish(&server.url(&template))
            .await
            .map_err(|e| e.to_string())?;
        lamina::content::seed::seed(&mut conn).await?;
        drop(conn);
        TEMPLATE_NAME.get_or_init(|| template);
        Ok(server)
    })
}

static TEMPLATE_NAME: OnceLock<String> = OnceLock::new();

/// Drops test databases of test runs that have ended (their process is gone),
/// e.g. the templates left on a shared server by earlier runs.
async fn drop_leftovers(admin: &mut AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> =
        diesel::sql_query("SELECT datname::text AS datname FROM pg_database WHERE datname LIKE 'lamina\\_test\\_%'")
            .load(admin)
            .await
            .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname
            .trim_start_matches("lamina_test_template_")
            .trim_start_matches("lamina_test_");
        let pid = pid.split('_').next().unwrap_or_default();
        if pid
            .parse::<u32>()
            .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

/// A database of one test: migrated and seeded, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A fresh copy of the template.
    pub async fn new() -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let server = server();
        let template = TEMPLATE_NAME.get().expect("template");
        let name = format!(
            "lamina_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = AsyncPgConnection::establish(&server.url("postgres"))
            .await
            .expect("admin connection");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        TestDb {
            url: server.url(&name),
            name,
        }
    }

    /// The asset directory of this test's app (removed with the database).
    pub fn asset_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir().join("lamina-test-assets").join(&self.name)
    }

    /// A plain connection, to look at what is stored.
    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.expect("test connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.asset_dir());
        let admin_url = server().url("postgres");
        let name = self.name.clone();
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// The real application (same `build_app` as `lamina serve`) on a fresh database.
pub struct TestApp {
    pub db: TestDb,
    pub config: lamina::config::Config,
}

impl TestApp {
    pub async fn new() -> TestApp {
        let db = TestDb::new().await;
        let mut config = test_config();
        config.asset_dir = Some(db.asset_dir());
        config.asset_store = test_asset_store(&db);
        TestApp { db, config }
    }

    /// A connection of its own to this app's database (its driver runs on the test's runtime).
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        actix_web::rt::spawn(connection);
        client
    }

    /// The asset store of this test's app (see [`test_asset_store`]).
    pub fn store(&self) -> lamina::media::Store {
        lamina::media::Store::from_config(&self.config)
    }

    /// The environment that gives a `lamina` process this app's asset store.
    pub fn asset_env(&self) -> Vec<(&'static str, String)> {
        match &self.config.asset_store {
            Some(url) => vec![("LAMINA_ASSET_STORE", url.clone())],
            None => vec![("LAMINA_ASSET_DIR", self.db.asset_dir().to_string_lossy().into_owned())],
        }
    }

    pub fn state(&self) -> lamina::AppState {
        self.state_for(&self.db.url)
    }

    /// State whose connections go to `url` (e.g. through a [`Proxy`]).
    pub fn state_for(&self, url: &str) -> lamina::AppState {
        let pool = lamina::db::build_pool(url, 24).expect("pool");
        lamina::AppState::new(pool, &self.config)
    }

    /// The initialised service, to send requests to, with its cache kept
    /// coherent by a listener as in `lamina serve`.
    pub async fn service(&self) -> impl AppService + use<> {
        self.node().await.1
    }

    /// A node: its state and its service. Several nodes can share the database.
    pub async fn node(&self) -> (lamina::AppState, impl AppService + use<>) {
        self.node_for(&self.db.url).await
    }

    /// A node reaching the database through `url`.
    pub async fn node_for(&self, url: &str) -> (lamina::AppState, impl AppService + use<>) {
        let state = self.state_for(url);
        lamina::cache::spawn_listener(url.to_owned(), &state.cache).expect("the cache listener");
        let service = test::init_service(lamina::build_app(state.clone())).await;
        (state, service)
    }
}

/// A fresh application and its service, for tests without a token.
pub async fn serving() -> (TestApp, impl AppService + use<>) {
    let app = TestApp::new().await;
    let service = app.service().await;
    (app, service)
}

/// A fresh application, an editor token and its service: how most tests start.
pub async fn editing() -> (TestApp, String, impl AppService + use<>) {
    editing_with(|_| {}).await
}

/// As [`editing`], with the configuration changed by `configure` first.
pub async fn editing_with(configure: fn(&mut lamina::config::Config)) -> (TestApp, String, impl AppService + use<>) {
    let mut app = TestApp::new().await;
    configure(&mut app.config);
    let editor = app.editor().await;
    let service = app.service().await;
    (app, editor, service)
}

/// A fresh application, an editor token and a node (its state and service):
/// how tests that drive the state directly start.
pub async fn editing_node() -> (TestApp, String, lamina::AppState, impl AppService + use<>) {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let (state, service) = app.node().await;
    (app, editor, state, service)
}

/// A fresh application, an editor token and two nodes (state and service each) on its database.
pub async fn editing_two_nodes() -> (
    TestApp,
    String,
    (lamina::AppState, impl AppService + use<>),
    (lamina::AppState, impl AppService + use<>),
) {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let first = app.node().await;
    let second = app.node().await;
    (app, editor, first, second)
}

/// The configuration `lamina serve` would have with no environment set.
/// With `LAMINA_TEST_ASSET_STORE=s3://bucket` (and the `AWS_*` variables
/// of an S3-compatible server), every test app keeps its images in that
/// bucket, below a prefix of its own (`.ci/s3` runs the media tests so);
/// else in a directory of its own.
pub fn test_asset_store(db: &TestDb) -> Option<String> {
    let base = std::env::var("LAMINA_TEST_ASSET_STORE").ok()?;
    Some(format!("{}/{}", base.trim_end_matches('/'), db.name))
}

pub fn test_config() -> lamina::config::Config {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: lamina::config::Config,
    }
    Cli::try_parse_from(["lamina"]).expect("default config").config
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status, with the body in the message if it differs.
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts a problem+json error with this status and code; returns the body.
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        self.assert_status(status);
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], format!("urn:lamina:problem:{code}"));
        assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
        body
    }
}

/// What the fixtures return as the test service (`impl AppService + use<>`),
/// named once: the application's service, as `TestApp::service()` makes it.
pub trait AppService:
    Service<actix_http::Request, Response = ServiceResponse<Self::Body>, Error = actix_web::Error>
{
    type Body: MessageBody;
}

impl<S, B> AppService for S
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Body = B;
}

/// What the helpers take as the test service: `TestApp::service()` and the like.
pub trait TestService<B>:
    Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

impl<S, B> TestService<B> for S where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

impl Reply {
    /// The `ETag` header, which must be there.
    pub fn etag(&self) -> String {
        self.header("etag").expect("an ETag").to_owned()
    }
}

/// `method path` without a body, with `token`.
pub async fn call_as<S: TestService<B>, B: MessageBody>(
    service: &S,
    method: actix_web::http::Method,
    path: &str,
    token: &str,
) -> Reply {
    send(
        service,
        test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(bearer(token)),
    )
    .await
}

/// `method path` without a body, with `token` and `If-Match: tag`.
pub async fn call_if_match<S: TestService<B>, B: MessageBody>(
    service: &S,
    method: actix_web::http::Method,
    path: &str,
    token: &str,
    tag: &str,
) -> Reply {
    let request = test::TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(bearer(token))
        .insert_header(("If-Match", tag));
    send(service, request).await
}

/// `base` (a path or query with its other parameters) going on from `cursor`, if any.
pub fn from_cursor(base: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(cursor) => format!("{base}&cursor={cursor}"),
        None => base.to_owned(),
    }
}

/// `POST /v1/releases` of a release named `title`, scheduled for `publish_at` (`None`: by hand): the answer.
pub async fn new_release<S: TestService<B>, B: MessageBody>(
    service: &S,
    token: &str,
    title: &str,
    publish_at: Option<&str>,
) -> Reply {
    let body = serde_json::json!({"title": title, "publish_at": publish_at});
    write_as(service, actix_web::http::Method::POST, "/v1/releases", token, &body).await
}

/// Deletes `path` as the contract says a delete goes (API.md §4): 428
/// without `If-Match`, 412 with a stale one, 204 with the current `etag`;
/// then `path` reads as 404 `gone`.
pub async fn delete_current<S: TestService<B>, B: MessageBody>(
    service: &S,
    path: &str,
    token: &str,
    etag: &str,
    gone: &str,
) {
    use actix_web::http::Method;
    let precondition = |reply: Reply, status, code| reply.assert_problem(status, code);
    precondition(
        call_as(service, Method::DELETE, path, token).await,
        428,
        "precondition_required",
    );
    let stale = call_if_match(service, Method::DELETE, path, token, "\"x.0.1\"").await;
    precondition(stale, 412, "precondition_failed");
    call_if_match(service, Method::DELETE, path, token, etag)
        .await
        .assert_status(204);
    get_as(service, path, token).await.assert_problem(404, gone);
}

/// `GET path` with `token`.
pub async fn get_as<S: TestService<B>, B: MessageBody>(service: &S, path: &str, token: &str) -> Reply {
    call_as(service, actix_web::http::Method::GET, path, token).await
}

/// A JSON write of `body` with `token`, sent.
pub async fn write_as<S: TestService<B>, B: MessageBody>(
    service: &S,
    method: actix_web::http::Method,
    path: &str,
    token: &str,
    body: &Value,
) -> Reply {
    send(service, write(method, path, token, body)).await
}

/// `PUT path` of the JSON `body` with `token` and no `If-Match` (a create,
/// or staging in a release), sent.
pub async fn put_as<S: TestService<B>, B: MessageBody>(service: &S, path: &str, token: &str, body: &Value) -> Reply {
    write_as(service, actix_web::http::Method::PUT, path, token, body).await
}

/// A JSON write of `body` with `token` and `If-Match: tag`, sent.
pub async fn write_if_match<S: TestService<B>, B: MessageBody>(
    service: &S,
    method: actix_web::http::Method,
    path: &str,
    token: &str,
    tag: &str,
    body: &Value,
) -> Reply {
    send(
        service,
        write(method, path, token, body).insert_header(("If-Match", tag)),
    )
    .await
}

/// `PUT path` of the JSON `body` with `token` and `If-Match: *` (whatever stands there), sent.
pub async fn put_over<S: TestService<B>, B: MessageBody>(service: &S, path: &str, token: &str, body: &Value) -> Reply {
    put_if_match(service, path, token, "*", body).await
}

/// Creates a release titled `title`, which must succeed: its path and ETag.
pub async fn create_release<S: TestService<B>, B: MessageBody>(
    service: &S,
    token: &str,
    title: &str,
) -> (String, String) {
    let body = serde_json::json!({ "title": title });
    let created = write_as(service, actix_web::http::Method::POST, "/v1/releases", token, &body).await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().expect("a release id").to_owned();
    (format!("/v1/releases/{id}"), created.etag())
}

/// Writes the seed article in `locale` (`If-Match: *`), which must succeed: the answer.
pub async fn write_in_locale<S: TestService<B>, B: MessageBody>(
    service: &S,
    token: &str,
    locale: &str,
    body: &Value,
) -> Reply {
    let reply = put_over(service, &format!("{SEED}?locale={locale}"), token, body).await;
    reply.assert_status(200);
    reply
}

/// Publishes the seed article's translation into `locale`, last read with `etag`; it must succeed.
pub async fn publish_translation<S: TestService<B>, B: MessageBody>(
    service: &S,
    token: &str,
    locale: &str,
    etag: &str,
) {
    let path = format!("{SEED}/translations/{locale}");
    let body = serde_json::json!({"status": "published"});
    put_if_match(service, &path, token, etag, &body)
        .await
        .assert_status(200);
}

/// `PUT path` of the JSON `body` with `token` and `If-Match: tag`, sent.
pub async fn put_if_match<S: TestService<B>, B: MessageBody>(
    service: &S,
    path: &str,
    token: &str,
    tag: &str,
    body: &Value,
) -> Reply {
    write_if_match(service, actix_web::http::Method::PUT, path, token, tag, body).await
}

/// A `PUT` with `token` and `If-Match: *` whose body is `payload` as is,
/// with `Content-Type: content_type` if given (to send what is not JSON).
pub fn raw_put(path: &str, token: &str, content_type: Option<&str>, payload: &'static str) -> test::TestRequest {
    let mut request = test::TestRequest::put()
        .uri(path)
        .insert_header(bearer(token))
        .insert_header(("If-Match", "*"));
    if let Some(content_type) = content_type {
        request = request.insert_header(("Content-Type", content_type));
    }
    request.set_payload(payload)
}

/// The `position` of each section of an article as read, in order.
pub fn positions(article: &Value) -> Vec<i64> {
    article["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|section| section["position"].as_i64().expect("a position"))
        .collect()
}

/// The string `field` of each element of the array `list`, in order.
pub fn strings<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|element| element[field].as_str().expect("a string"))
        .collect()
}

/// The pointers of the `errors` of a 422 problem, in order.
pub fn pointers(problem: &Value) -> Vec<&str> {
    strings(&problem["errors"], "pointer")
}

/// `GET path` with the extra `headers` (and no token).
pub async fn get_with<S: TestService<B>, B: MessageBody>(service: &S, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = test::TestRequest::get().uri(path);
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    send(service, request).await
}

/// `GET path`, which must answer the problem+json error `status` `code`: its body.
pub async fn get_problem<S: TestService<B>, B: MessageBody>(service: &S, path: &str, status: u16, code: &str) -> Value {
    get(service, path).await.assert_problem(status, code)
}

/// Asserts a 422 `validation_failed` problem whose errors name (at least)
/// each of the `expected` pointers; returns the problem.
pub fn assert_invalid(reply: &Reply, expected: &[&str]) -> Value {
    let problem = reply.assert_problem(422, "validation_failed");
    let pointers = pointers(&problem);
    for pointer in expected {
        assert!(pointers.contains(pointer), "{pointer} missing from {pointers:?}");
    }
    problem
}

/// Sends a request and reads the whole response.
pub async fn send<S, B>(service: &S, request: test::TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(service, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await.to_vec();
    Reply { status, headers, body }
}

/// `GET path`.
pub async fn get<S, B>(service: &S, path: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(service, test::TestRequest::get().uri(path)).await
}

/// A section or item read on its own, as it stands inside an article: it
/// says its locale (the default, `en`, with nothing served from another),
/// which is taken off.
pub fn in_default_locale(mut read: Value) -> Value {
    assert_eq!(read["locale"], "en", "{read}");
    assert_eq!(read["fallbacks"], serde_json::json!({}), "{read}");
    if let Some(object) = read.as_object_mut() {
        object.remove("locale");
        object.remove("fallbacks");
    }
    read
}

/// The seed article's path.
pub const SEED: &str = "/v1/articles/explore-micro-needling-for-flawless-skin-today";

impl TestApp {
    /// Creates a token with `role` in this test's database; returns its secret.
    pub async fn token(&self, name: &str, role: lamina::auth::Role) -> String {
        let mut conn = self.db.conn().await;
        lamina::auth::create_token(&mut conn, name, role, None)
            .await
            .expect("create token")
    }

    /// An editor token.
    pub async fn editor(&self) -> String {
        self.token("editor", lamina::auth::Role::Editor).await
    }

    /// How many revisions are stored.
    pub async fn revision_count(&self) -> i64 {
        use diesel::QueryDsl;
        let mut conn = self.db.conn().await;
        lamina::db::schema::revisions::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("count revisions")
    }
}

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

/// A JSON write request.
pub fn write(method: actix_web::http::Method, path: &str, token: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(bearer(token))
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string())
}

/// A TCP proxy in front of the test database that can cut every connection
/// and refuse new ones, as a database outage or network fault would.
pub struct Proxy {
    /// A URL of the test database through the proxy.
    pub url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    hold: std::sync::Arc<std::sync::RwLock<Hold>>,
    /// How many connections wait at a held statement now.
    held: std::sync::Arc<AtomicUsize>,
}

/// What a [`Proxy`] holds back from the server, statement by statement, as
/// a stalled server (or network) would never read it: a held statement
/// waits, with everything the client sends after it on that connection,
/// until the hold is lifted. The proxy reads PostgreSQL's frontend protocol:
/// a statement is a simple query, or a prepared one (its Bind, Execute… go
/// with its Parse).
#[derive(Debug, Clone, Default)]
pub enum Hold {
    /// Nothing: every byte passes.
    #[default]
    Nothing,
    /// Statements whose SQL contains any of these bytes.
    Matching(Vec<Vec<u8>>),
    /// Statements whose SQL contains none of these bytes.
    AllBut(Vec<Vec<u8>>),
}

impl Hold {
    /// Whether a statement with this SQL is held.
    fn holds(&self, sql: &[u8]) -> bool {
        let contains = |needle: &Vec<u8>| sql.windows(needle.len()).any(|window| window == needle.as_slice());
        match self {
            Hold::Nothing => false,
            Hold::Matching(needles) => needles.iter().any(contains),
            Hold::AllBut(needles) => !needles.iter().any(contains),
        }
    }
}

/// The first NUL-terminated string of `bytes`, and what follows it.
fn c_string(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|byte| *byte == 0) {
        Some(end) => (&bytes[..end], &bytes[end + 1..]),
        None => (bytes, &[]),
    }
}

/// Copies what the client sends to the server message by message, waiting
/// at a message `hold` holds (see [`Hold`]).
async fn forward(
    mut from: impl tokio::io::AsyncRead + Unpin,
    mut to: impl tokio::io::AsyncWrite + Unpin,
    hold: std::sync::Arc<std::sync::RwLock<Hold>>,
    held: std::sync::Arc<AtomicUsize>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    // Startup messages (an SSLRequest, then the startup message) have no type byte.
    let mut untyped = 1;
    // The SQL of each prepared statement, and of the one being run.
    let mut statements: std::collections::HashMap<Vec<u8>, Vec<u8>> = std::collections::HashMap::new();
    let mut current: Vec<u8> = Vec::new();
    loop {
        // Every complete message in the buffer.
        loop {
            let header = if untyped > 0 { 0 } else { 1 };
            if buffer.len() < header + 4 {
                break;
            }
            let length = u32::from_be_bytes([
                buffer[header],
                buffer[header + 1],
                buffer[header + 2],
                buffer[header + 3],
            ]);
            let end = header + length as usize;
            if buffer.len() < end {
                break;
            }
            let message: Vec<u8> = buffer.drain(..end).collect();
            if untyped > 0 {
                // An SSLRequest (8 bytes, code 80877103) is followed by the real startup message.
                let ssl = message.len() == 8 && message[4..8] == 80_877_103u32.to_be_bytes();
                if !ssl {
                    untyped -= 1;
                }
                to.write_all(&message).await?;
                continue;
            }
            let body = &message[5..];
            match message[0] {
                b'Q' => current = c_string(body).0.to_vec(),
                b'P' => {
                    let (name, rest) = c_string(body);
                    let sql = c_string(rest).0.to_vec();
                    statements.insert(name.to_vec(), sql.clone());
                    current = sql;
                }
                b'B' => {
                    let statement = c_string(c_string(body).1).0;
                    current = statements.get(statement).cloned().unwrap_or_default();
                }
                _ => {}
            }
            let holds = || message[0] != b'X' && hold.read().map(|hold| hold.holds(&current)).unwrap_or(false);
            if holds() {
                held.fetch_add(1, Ordering::SeqCst);
                while holds() {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                held.fetch_sub(1, Ordering::SeqCst);
            }
            to.write_all(&message).await?;
        }
        let read = from.read(&mut chunk).await?;
        if read == 0 {
            return to.shutdown().await;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Pipes `client` and `server` both ways, holding what `hold` says.
async fn pipe(
    client: tokio::net::TcpStream,
    server: impl tokio::io::AsyncRead + tokio::io::AsyncWrite,
    (hold, held): (std::sync::Arc<std::sync::RwLock<Hold>>, std::sync::Arc<AtomicUsize>),
) -> std::io::Result<()> {
    let (client_read, mut client_write) = client.into_split();
    let (mut server_read, server_write) = tokio::io::split(server);
    let up = forward(client_read, server_write, hold, held);
    let down = tokio::io::copy(&mut server_read, &mut client_write);
    tokio::try_join!(up, down).map(|_| ())
}

impl Proxy {
    pub fn start(db: &TestDb) -> Proxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let config: tokio_postgres::Config = db.url.parse().expect("a postgres URL");
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let target = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Unix(dir)) => Target::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            Some(tokio_postgres::config::Host::Tcp(host)) => Target::Tcp(format!("{host}:{port}")),
            None => Target::Tcp(format!("127.0.0.1:{port}")),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("address");
        let cut = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicUsize::new(0));
        let hold = Arc::new(std::sync::RwLock::new(Hold::Nothing));
        let held = Arc::new(AtomicUsize::new(0));
        let (cut_flag, current, holding) = (cut.clone(), generation.clone(), (hold.clone(), held.clone()));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                while let Ok((client, _)) = listener.accept().await {
                    if std::sync::atomic::AtomicBool::load(&cut_flag, Ordering::SeqCst) {
                        continue; // dropped: the connection is refused
                    }
                    let (target, cut_flag, current) = (target.clone(), cut_flag.clone(), current.clone());
                    let holding = holding.clone();
                    let born = std::sync::atomic::AtomicUsize::load(&current, Ordering::SeqCst);
                    tokio::spawn(async move {
                        let pipe = async {
                            match target {
                                Target::Unix(path) => {
                                    pipe(client, tokio::net::UnixStream::connect(path).await?, holding).await
                                }
                                Target::Tcp(address) => {
                                    pipe(client, tokio::net::TcpStream::connect(address).await?, holding).await
                                }
                            }
                        };
                        let watch = async {
                            while !std::sync::atomic::AtomicBool::load(&cut_flag, Ordering::SeqCst)
                                && std::sync::atomic::AtomicUsize::load(&current, Ordering::SeqCst) == born
                            {
                                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            }
                        };
                        tokio::select! { _ = pipe => {}, _ = watch => {} }
                    });
                }
            });
        });
        let user = config.get_user().unwrap_or("postgres");
        let dbname = config.get_dbname().unwrap_or("postgres");
        let mut url = format!("host=127.0.0.1 port={} user={user} dbname={dbname}", address.port());
        if let Some(password) = config.get_password() {
            url.push_str(&format!(
                " password='{}'",
                String::from_utf8_lossy(password).replace('\'', "\\'")
            ));
        }
        Proxy {
            url,
            cut,
            generation,
            hold,
            held,
        }
    }

    /// Holds back what the clients send, as `hold` says, until [`Proxy::release`].
    pub fn hold(&self, hold: Hold) {
        if let Ok(mut current) = self.hold.write() {
            *current = hold;
        }
    }

    /// How many connections wait at a held statement now.
    pub fn held(&self) -> usize {
        AtomicUsize::load(&self.held, Ordering::SeqCst)
    }

    /// Lets everything held back through, and what comes after.
    pub fn release(&self) {
        self.hold(Hold::Nothing);
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[derive(Clone)]
enum Target {
    Unix(std::path::PathBuf),
    Tcp(String),
}

/// `url` with `application_name` set, so a node's connections can be told
/// apart in `pg_stat_activity`.
pub fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

/// The real `lamina serve` as a separate process on a database URL (a node
/// that can be SIGKILLed); its log in a temporary file. Killed on drop.
pub struct LaminaProcess {
    pub child: std::process::Child,
    pub port: u16,
    log: std::path::PathBuf,
}

impl LaminaProcess {
    /// Starts `lamina serve` on the database at `url`, logging at `info`.
    pub fn serve(url: &str, name: &str) -> LaminaProcess {
        LaminaProcess::serve_with(url, name, &[])
    }

    /// [`LaminaProcess::serve`] with more environment variables.
    pub fn serve_with(url: &str, name: &str, env: &[(&str, &str)]) -> LaminaProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let log = std::env::temp_dir().join(format!("lamina-{name}-{}-{port}.log", std::process::id()));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_lamina"))
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("LAMINA_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("lamina starts");
        LaminaProcess { child, port, log }
    }

    /// `http://127.0.0.1:<port>` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once it holds `text`, or after 5 s (lamina writes its log every few milliseconds).
    pub async fn log_with(&self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if log.contains(text) || started.elapsed() > std::time::Duration::from_secs(5) {
                return log;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 60 s) until `/readyz` answers 200.
    pub async fn wait_ready(&mut self) {
        let client = awc::Client::default();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(60) {
            if let Ok(response) = client.get(self.url("/readyz")).send().await
                && response.status() == 200
            {
                return;
            }
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("lamina exited ({status}) before it was ready:\n{}", self.log());
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("lamina was not ready within 60 s:\n{}", self.log());
    }

    /// SIGKILL, as a crash or the OOM killer would; waits for the process to end.
    pub fn kill(&mut self) -> std::process::ExitStatus {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait")
    }
}

impl Drop for LaminaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One HTTP exchange with a running `lamina`: the status and the JSON body
/// (`Null` if there is none), with an optional bearer token, `If-Match` and JSON body.
pub async fn call(
    method: actix_web::http::Method,
    url: &str,
    token: Option<&str>,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .finish();
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.insert_header(bearer(token));
    }
    if let Some(etag) = if_match {
        request = request.insert_header(("If-Match", etag));
    }
    let sent = match body {
        Some(body) => request.send_json(body).await,
        None => request.send().await,
    };
    let mut response = sent.unwrap_or_else(|err| panic!("{method} {url}: {err}"));
    let status = response.status().as_u16();
    let bytes = response.body().limit(1 << 22).await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|err| panic!("{method} {url}: not JSON ({err}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// An article as read, as a write body in the default locale: without what the server owns.
pub fn as_write(article: &Value) -> Value {
    let mut body = article.clone();
    use lamina::content::fields::{ARTICLE_SERVER_OWNED, SECTION_SERVER_OWNED};
    for key in ARTICLE_SERVER_OWNED.iter().chain(&["locale", "fallbacks"]) {
        body.as_object_mut().unwrap().remove(*key);
    }
    for section in body["sections"].as_array_mut().unwrap() {
        for key in SECTION_SERVER_OWNED {
            section.as_object_mut().unwrap().remove(*key);
        }
    }
    body
}

/// Waits until the cache has made every compressed variant queued (off the
/// request path, they replace their entries and weigh them again).
pub async fn compression_done(cache: &lamina::cache::RepresentationCache) {
    while cache.compressing() > 0 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// A port free on this machine now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A raw HTTP/1.1 request to `127.0.0.1:port`; returns the whole response text.
pub fn raw_http(port: u16, method: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    Some(String::from_utf8_lossy(&response).into_owned())
}

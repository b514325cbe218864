//! Configuration: command-line options that default to environment
//! variables, parsed once at start-up. `lamina --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default directory of the private PostgreSQL cluster.
pub const DEFAULT_DATA_DIR: &str = ".lamina";
/// Default most database connections.
pub const DEFAULT_POOL_SIZE: usize = 16;
/// Default `max-age` of public responses, seconds.
pub const DEFAULT_MAX_AGE: u32 = 60;
/// Default `s-maxage` (shared caches, CDNs) of public responses, seconds.
pub const DEFAULT_S_MAXAGE: u32 = 300;
/// Default `stale-while-revalidate` of public responses, seconds.
pub const DEFAULT_STALE_WHILE_REVALIDATE: u32 = 60;

/// Default most bytes of response bodies kept in the representation cache.
pub const DEFAULT_CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;
/// How long caches may serve a stale copy while lamina answers errors.
pub const STALE_IF_ERROR_SECONDS: u32 = 86_400;
/// Default days the change log (`GET /v1/sync`) keeps a change.
pub const DEFAULT_SYNC_KEEP_DAYS: u32 = 30;
/// Default days a deleted article stays restorable.
pub const DEFAULT_TRASH_KEEP_DAYS: u32 = 30;
/// Most days the change log can be told to keep a change (a century).
pub const MAX_SYNC_KEEP_DAYS: u32 = 36_500;

/// Default `LAMINA_ASSET_MAX_BYTES`: 20 MiB.
pub const DEFAULT_ASSET_MAX_BYTES: usize = 20 * 1024 * 1024;
/// Default `LAMINA_ASSET_CACHE_MAX_BYTES`: 1 GiB of variants.
pub const DEFAULT_ASSET_CACHE_MAX_BYTES: u64 = 1024 * 1024 * 1024;

/// Default revisions kept per article.
pub const DEFAULT_REVISIONS_KEEP: u32 = 100;
/// Default longest wait for a request body, seconds.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 10;

/// Networks whose connections are proxies that may name the client
/// (`Forwarded`, `X-Forwarded-For`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl std::str::FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of CIDRs or single addresses; empty for none.
    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<ipnet::IpNet>()
                    .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{part:?} is not a CIDR (e.g. 10.0.0.0/8) or an IP address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}
/// Default of the most client connections one `serve` process holds open.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4_096;
/// Default attempts of a webhook delivery before it is `failed`.
pub const DEFAULT_WEBHOOK_MAX_ATTEMPTS: u32 = 12;
/// Default delay before a webhook's first retry, milliseconds (then doubling).
pub const DEFAULT_WEBHOOK_RETRY_BASE_MS: u64 = 5_000;
/// Default days a delivered or failed webhook delivery is kept.
pub const DEFAULT_WEBHOOK_RETENTION_DAYS: u32 = 30;
/// Hours a rotated-out webhook secret keeps signing.
pub const DEFAULT_WEBHOOK_ROTATION_HOURS: u32 = 24;

/// Default time a client has to send a new connection's first request head, milliseconds.
pub const DEFAULT_CLIENT_HEADER_TIMEOUT_MS: u64 = 5_000;

/// Settings of every command.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// PostgreSQL to use, e.g. postgres://user:password@localhost/lamina. Without it lamina
    /// runs its own private PostgreSQL cluster under LAMINA_DATA_DIR.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Where the private PostgreSQL cluster lives (used only without DATABASE_URL).
    #[arg(long, env = "LAMINA_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,

    /// Address and port `serve` listens on.
    #[arg(long, env = "LAMINA_BIND", default_value = DEFAULT_BIND, global = true)]
    pub bind: SocketAddr,

    /// Most database connections held open by `serve`.
    #[arg(long, env = "LAMINA_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE, global = true)]
    pub pool_size: usize,

    /// HTTP worker threads of `serve` (default: one per CPU core).
    #[arg(long, env = "LAMINA_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// The most client connections `serve` holds open at once (shared out
    /// among the workers); past it, new connections wait in the listen
    /// backlog until one closes.
    #[arg(long, env = "LAMINA_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub max_connections: u32,

    /// Milliseconds a new connection has to send its first request head; a slower
    /// client gets 408 and is disconnected.
    #[arg(long, env = "LAMINA_CLIENT_HEADER_TIMEOUT_MS", default_value_t = DEFAULT_CLIENT_HEADER_TIMEOUT_MS, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub client_header_timeout_ms: u64,

    /// Origins allowed to call the API from a browser: `*`, or a comma-separated list
    /// such as `https://example.com,https://preview.example.com`.
    #[arg(long, env = "LAMINA_CORS_ORIGINS", default_value = "*", global = true)]
    pub cors_origins: String,

    /// Failed authentications allowed per client address per minute (then 429); 0: no limit.
    #[arg(long, env = "LAMINA_AUTH_FAILURES_PER_MINUTE", default_value_t = 20, global = true)]
    pub auth_failures_per_minute: u32,

    /// Writes allowed per token per minute (then 429); 0: no limit.
    #[arg(long, env = "LAMINA_WRITES_PER_MINUTE", default_value_t = 600, global = true)]
    pub writes_per_minute: u32,

    /// Anonymous searches (`GET /v1/search`) allowed per client address per minute (then 429); 0: no limit.
    #[arg(long, env = "LAMINA_SEARCHES_PER_MINUTE", default_value_t = 120, global = true)]
    pub searches_per_minute: u32,

    /// Reverse proxies (comma-separated CIDRs, e.g. `10.0.0.0/8,::1`) whose
    /// `Forwarded`/`X-Forwarded-For` headers name the client address used for
    /// rate limits; from anyone else those headers are ignored. Empty: none.
    #[arg(long, env = "LAMINA_TRUSTED_PROXIES", default_value = "", value_parser = clap::value_parser!(TrustedProxies), global = true)]
    pub trusted_proxies: TrustedProxies,

    /// The forwarding header the trusted proxies write (the other is ignored:
    /// a proxy passes it on as the client sent it).
    #[arg(long, env = "LAMINA_TRUSTED_PROXY_HEADER", value_enum, default_value_t = ProxyHeader::XForwardedFor, global = true)]
    pub trusted_proxy_header: ProxyHeader,

    /// Longest wait, in seconds, for a request body to arrive (then 408).
    #[arg(long, env = "LAMINA_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub body_timeout_secs: u64,

    /// Revisions kept per article; older ones are pruned on write.
    #[arg(long, env = "LAMINA_REVISIONS_KEEP", default_value_t = DEFAULT_REVISIONS_KEEP, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub revisions_keep: u32,

    /// Days the change log keeps a change; sync cursors older than that are
    /// expired (410 `sync_cursor_expired`: start again without a cursor).
    #[arg(long, env = "LAMINA_SYNC_KEEP_DAYS", default_value_t = DEFAULT_SYNC_KEEP_DAYS, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNC_KEEP_DAYS)), global = true)]
    pub sync_keep_days: u32,

    /// Days a deleted article stays restorable (`GET /v1/articles?deleted=true`);
    /// then it is purged with its revisions.
    #[arg(long, env = "LAMINA_TRASH_KEEP_DAYS", default_value_t = DEFAULT_TRASH_KEEP_DAYS, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SYNC_KEEP_DAYS)), global = true)]
    pub trash_keep_days: u32,

    /// Most bytes of public response bodies kept in memory (0 turns the cache off).
    #[arg(long, env = "LAMINA_CACHE_MAX_BYTES", default_value_t = DEFAULT_CACHE_MAX_BYTES, global = true)]
    pub cache_max_bytes: usize,

    /// `max-age` of public read responses, in seconds.
    #[arg(long, env = "LAMINA_CACHE_MAX_AGE", default_value_t = DEFAULT_MAX_AGE, global = true)]
    pub cache_max_age: u32,

    /// `s-maxage` of public read responses (shared caches, CDNs), in seconds.
    #[arg(long, env = "LAMINA_CACHE_S_MAXAGE", default_value_t = DEFAULT_S_MAXAGE, global = true)]
    pub cache_s_maxage: u32,

    /// `stale-while-revalidate` of public read responses, in seconds.
    #[arg(long, env = "LAMINA_CACHE_STALE_WHILE_REVALIDATE", default_value_t = DEFAULT_STALE_WHILE_REVALIDATE, global = true)]
    pub cache_stale_while_revalidate: u32,

    /// Attempts of a webhook delivery before it is marked `failed`.
    #[arg(long, env = "LAMINA_WEBHOOK_MAX_ATTEMPTS", default_value_t = DEFAULT_WEBHOOK_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub webhook_max_attempts: u32,

    /// Milliseconds before a failed webhook delivery is retried the first time;
    /// each further retry waits twice as long (with jitter), at most 6 hours.
    #[arg(long, env = "LAMINA_WEBHOOK_RETRY_BASE_MS", default_value_t = DEFAULT_WEBHOOK_RETRY_BASE_MS, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhook_retry_base_ms: u64,

    /// Days a delivered or failed webhook delivery is kept (listed, retryable
    /// by hand); older ones are deleted in batches every minute.
    #[arg(long, env = "LAMINA_WEBHOOK_RETENTION_DAYS", default_value_t = DEFAULT_WEBHOOK_RETENTION_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650), global = true)]
    pub webhook_retention_days: u32,

    /// Hours a rotated-out webhook secret still signs deliveries (as a second
    /// signature) after `POST /v1/webhooks/{id}/rotate-secret`.
    #[arg(long, env = "LAMINA_WEBHOOK_ROTATION_HOURS", default_value_t = DEFAULT_WEBHOOK_ROTATION_HOURS, value_parser = clap::value_parser!(u32).range(0..=8760), global = true)]
    pub webhook_rotation_hours: u32,

    /// The default locale (a BCP 47 tag such as `en` or `de-AT`): the locale of
    /// the text every write gives without `?locale`, and the end of every
    /// fallback chain. Takes effect on a database that holds no other locale yet.
    #[arg(long, env = "LAMINA_DEFAULT_LOCALE", default_value = "en", global = true)]
    pub default_locale: String,

    /// Where uploaded images and their variants are kept. Default: `assets/` in
    /// LAMINA_DATA_DIR with the private cluster; with DATABASE_URL (no data
    /// directory of lamina's), `lamina-assets/` in the OS's temporary directory.
    #[arg(long, env = "LAMINA_ASSET_DIR", global = true)]
    pub asset_dir: Option<PathBuf>,

    /// An S3-compatible object store for uploaded images and their variants,
    /// `s3://bucket/prefix`, instead of LAMINA_ASSET_DIR, so several nodes
    /// share one store. Reached as the AWS tools are configured: AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, and
    /// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for a store other than AWS's.
    #[arg(long, env = "LAMINA_ASSET_STORE", value_parser = asset_store_url, global = true)]
    pub asset_store: Option<String>,

    /// The endpoint of LAMINA_ASSET_STORE (e.g. `http://127.0.0.1:9000`),
    /// before AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL.
    #[arg(long, env = "LAMINA_ASSET_STORE_ENDPOINT", global = true)]
    pub asset_store_endpoint: Option<String>,

    /// Most bytes of an uploaded image (then 413).
    #[arg(long, env = "LAMINA_ASSET_MAX_BYTES", default_value_t = DEFAULT_ASSET_MAX_BYTES, global = true)]
    pub asset_max_bytes: usize,

    /// Most bytes of resized variants kept on disk; past it the least recently
    /// served are removed (and made again when asked for). Originals never are.
    #[arg(long, env = "LAMINA_ASSET_CACHE_MAX_BYTES", default_value_t = DEFAULT_ASSET_CACHE_MAX_BYTES, global = true)]
    pub asset_cache_max_bytes: u64,

    /// Allow webhook URLs whose host resolves to a loopback, private, link-local
    /// or unspecified address (for tests and local use; refused otherwise).
    #[arg(long, env = "LAMINA_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_private: bool,
}

/// `LAMINA_ASSET_STORE`, checked to be `s3://bucket/prefix`.
fn asset_store_url(url: &str) -> Result<String, String> {
    parse_asset_store(url).map(|_| url.to_owned())
}

/// The bucket and prefix of `s3://bucket/prefix`.
pub fn parse_asset_store(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("LAMINA_ASSET_STORE must be s3://bucket/prefix, not {url:?}"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'.');
    if !valid_bucket {
        return Err(format!(
            "LAMINA_ASSET_STORE names the bucket {bucket:?}: a bucket name is 3–63 lowercase letters, digits, '-' or '.'"
        ));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.split('/').any(|part| part == "." || part == "..") {
        return Err(format!("LAMINA_ASSET_STORE's prefix {prefix:?} may not hold . or .."));
    }
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Ok((bucket.to_owned(), prefix))
}

/// The forwarding header trusted proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, …`
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1, …` (RFC 7239)
    Forwarded,
}

impl Config {
    /// The `Cache-Control` value of public read responses.
    pub fn public_cache_control(&self) -> String {
        format!(
            "public, max-age={}, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
            self.cache_max_age, self.cache_s_maxage, self.cache_stale_while_revalidate, STALE_IF_ERROR_SECONDS
        )
    }
}

/// Printed after the options in `--help`.
pub const ENV_HELP: &str = "\
Every option can be set by its environment variable instead (shown as [env: …]).
Logging: RUST_LOG (default `info`), e.g. RUST_LOG=debug or RUST_LOG=lamina=debug,actix_web=warn.
Without DATABASE_URL, lamina runs PostgreSQL itself from the server programs on PATH,
in `pg_config --bindir` or in /usr/lib/postgresql/*/bin (as the `postgres` OS user when run as root).";

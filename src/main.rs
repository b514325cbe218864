//! The `lamina` command: parse the command line, set up logging, run a command.

use std::process::ExitCode;

/// mimalloc gives freed memory back to the system (after a short delay)
/// where glibc's allocator kept it: after floods of idle connections RSS
/// returns near where it was (benches/hostile, FLOOD_ONLY=1).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use lamina::auth::{self, Role};
use lamina::config::{self, Config};
use lamina::content::seed::{self, Seeded};
use lamina::db::{
    self,
    cluster::{ClusterHealth, PrivateCluster, Usage},
};

/// A headless content API: articles as typed sections in PostgreSQL, served as documented JSON.
#[derive(Debug, Parser)]
#[command(name = "lamina", version, after_help = config::ENV_HELP)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default): migrate, seed the first article if absent, listen on LAMINA_BIND.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Store the micro-needling article unless an article with its slug exists.
    Seed,
    /// Print the OpenAPI spec (what openapi/openapi.json holds).
    Openapi,
    /// Manage API tokens (`Authorization: Bearer <token>`).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret, once, alone on standard output:
    /// TOKEN=$(lamina token create --name alice --role editor)
    Create {
        /// A unique name: 1-64 letters, digits, '.', '_' or '-'. Recorded as the actor of writes.
        #[arg(long)]
        name: String,
        /// preview: read drafts; editor: also write content and read revisions; admin: everything.
        #[arg(long, value_enum)]
        role: Role,
        /// Days until the token expires, 1 to 3650 (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(lamina::auth::MAX_TOKEN_DAYS)))]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name; it stops working at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    lamina::logging::init();
    let cli = Cli::parse();
    let outcome = run(cli).await;
    lamina::logging::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("lamina: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", lamina::openapi::spec_json());
        return Ok(());
    }
    let usage = match &command {
        Command::Serve => Usage::Serve,
        Command::Migrate => Usage::Command("migrate"),
        Command::Seed => Usage::Command("seed"),
        Command::Token(_) => Usage::Command("token"),
        Command::Openapi => Usage::Command("openapi"),
    };
    let (url, cluster) = open_database(&cli.config, usage).await?;
    // `serve` owns the private cluster: it restarts the server if it dies.
    let supervisor = cluster
        .as_ref()
        .filter(|cluster| usage == Usage::Serve && cluster.owned())
        .map(PrivateCluster::supervise);
    let result = match command {
        Command::Serve => serve(&cli.config, &url, supervisor.as_ref().map(|s| s.health())).await,
        Command::Migrate => migrate(&url).await.map(|_| ()),
        Command::Seed => seed_once(&url, &cli.config).await,
        Command::Token(command) => token(&url, command).await,
        Command::Openapi => Ok(()),
    };
    if let Some(supervisor) = supervisor {
        supervisor.stop().await;
    }
    if let Some(cluster) = cluster {
        tokio::task::block_in_place(|| cluster.stop())?;
    }
    result
}

/// The database URL: `DATABASE_URL`, or the private cluster's (started if needed).
async fn open_database(config: &Config, usage: Usage) -> Result<(String, Option<PrivateCluster>), BoxError> {
    if let Some(url) = &config.database_url {
        // Not the URL itself: it may hold a password in any of several forms.
        log::info!("database: the PostgreSQL server of DATABASE_URL");
        return Ok((url.clone(), None));
    }
    let cluster = tokio::task::block_in_place(|| PrivateCluster::open(&config.data_dir, usage))?;
    if let Err(err) = db::ensure_database(&cluster.url("postgres"), "lamina").await {
        let _ = tokio::task::block_in_place(|| cluster.stop());
        return Err(format!("creating the lamina database failed: {err}").into());
    }
    log::info!(
        "database: private PostgreSQL cluster in {} (database lamina)",
        cluster.data_dir().display()
    );
    Ok((cluster.url("lamina"), Some(cluster)))
}

async fn migrate(url: &str) -> Result<usize, BoxError> {
    let applied = db::migrate(url)
        .await
        .map_err(|err| format!("migrating the database failed: {err}"))?;
    log::info!("migrations: {applied} applied");
    Ok(applied)
}

async fn seed_once(url: &str, config: &Config) -> Result<(), BoxError> {
    migrate(url).await?;
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(url).await?;
    lamina::content::locales::configure_default(&mut conn, &config.default_locale).await?;
    match seed::seed(&mut conn).await? {
        Seeded::Inserted => log::info!("seed: stored the article {:?}", seed::SLUG),
        Seeded::AlreadyPresent => log::info!("seed: the article {:?} is already present", seed::SLUG),
    }
    Ok(())
}

async fn serve(config: &Config, url: &str, cluster: Option<Arc<ClusterHealth>>) -> Result<(), BoxError> {
    seed_once(url, config).await?;
    let pool = db::build_pool(url, config.pool_size)?;
    let state = lamina::AppState {
        cluster,
        ..lamina::AppState::new(pool.clone(), config)
    };
    let store = &state.media.store;
    let created = store
        .blocking(|store| store.check())
        .await
        .map_err(|err| format!("the asset store ({}) cannot be used: {err}", store.describe()))?;
    if created {
        log::info!("assets: created the bucket of {}", store.describe());
    }
    log::info!("assets: {}", store.describe());
    lamina::cache::spawn_listener(url.to_owned(), &state.cache)?;
    // What a crash left in the asset store goes, beside serving.
    tokio::spawn({
        let (pool, media) = (pool.clone(), state.media.clone());
        async move {
            match lamina::content::assets::sweep(&pool, &media.store).await {
                Ok(0) => {}
                Ok(removed) => log::info!("assets: removed {removed} file(s) a crash left behind"),
                Err(err) => log::warn!("assets: sweeping the store failed: {err}"),
            }
        }
    });
    tokio::spawn(lamina::content::locales::refresh(
        pool.clone(),
        state.locales.clone(),
        state.cache.clone(),
    ));
    // Stops when dropped, at the end of serving.
    let webhook_settings = lamina::webhooks::Settings {
        metrics: state.metrics.webhooks.clone(),
        ..lamina::webhooks::Settings::new(config)
    };
    let _webhooks = lamina::webhooks::spawn(url.to_owned(), webhook_settings)?;
    // Publishes scheduled releases (overdue ones now); stops when dropped.
    let _releases = lamina::releases::spawn(state.clone());
    // On SIGTERM or Ctrl-C: stop accepting, finish in-flight requests (up
    // to 10 s), then close the pool; the caller stops the private cluster.
    lamina::server::run(state, config).await?;
    pool.close();
    log::info!("stopped serving");
    Ok(())
}

async fn token(url: &str, command: TokenCommand) -> Result<(), BoxError> {
    migrate(url).await?;
    let mut conn = <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(url).await?;
    match command {
        TokenCommand::Create {
            name,
            role,
            expires_in_days,
        } => {
            let secret = auth::create_token(&mut conn, &name, role, expires_in_days).await?;
            log::info!(
                "token {name:?} created with role {}; its secret is printed once",
                role.as_str()
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            let tokens = auth::list_tokens(&mut conn).await?;
            println!(
                "{:<24} {:<8} {:<14} {:<20} {:<20} {:<20} status",
                "NAME", "ROLE", "PREFIX", "CREATED", "EXPIRES", "LAST USED"
            );
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
            };
            for token in tokens {
                let status = match (token.revoked_at, token.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(expires)) if expires <= chrono::Utc::now() => "expired",
                    _ => "active",
                };
                println!(
                    "{:<24} {:<8} {:<14} {:<20} {:<20} {:<20} {status}",
                    token.name,
                    token.role,
                    format!("{}…", token.prefix),
                    time(Some(token.created_at)),
                    time(token.expires_at),
                    time(token.last_used_at),
                );
            }
        }
        TokenCommand::Revoke { name } => {
            if !auth::revoke_token(&mut conn, &name).await? {
                return Err(format!("no active token is named {name:?}").into());
            }
            log::info!("token {name:?} revoked");
        }
    }
    Ok(())
}

//! A private PostgreSQL cluster, run from the server programs installed on the
//! machine, for when no `DATABASE_URL` is given.
//!
//! The cluster listens on a Unix socket only (no TCP port to collide with),
//! with trust authentication limited to the socket's owner. When lamina runs
//! as root, PostgreSQL (which refuses root) runs as the `postgres` OS user.
//! A second lamina process with the same data directory finds the running
//! server through `postmaster.pid` and uses it instead of starting another.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The OS user PostgreSQL runs as when lamina is started as root.
const POSTGRES_OS_USER: &str = "postgres";
/// The database superuser created by `initdb`.
const SUPERUSER: &str = "postgres";
/// The socket file is `.s.PGSQL.<port>`; no TCP port is opened.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// Why the private cluster could not be used.
#[derive(Debug)]
pub enum ClusterError {
    /// `initdb`, `pg_ctl` and `postgres` were not found.
    NoServerPrograms,
    /// A PostgreSQL program or helper failed.
    Command { what: String, output: String },
    /// A file system operation failed.
    Io { what: String, source: std::io::Error },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::NoServerPrograms => f.write_str(
                "No DATABASE_URL is set, so lamina wants to run its own PostgreSQL cluster, but it \
                 cannot find the PostgreSQL server programs (initdb, pg_ctl, postgres). It looked on \
                 PATH, in `pg_config --bindir` and in /usr/lib/postgresql/*/bin. Install the \
                 PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install \
                 postgresql`), or put its bin directory on PATH, or set DATABASE_URL to a PostgreSQL \
                 server you already run (e.g. DATABASE_URL=postgres://user:password@localhost/lamina).",
            ),
            ClusterError::Command { what, output } => write!(f, "{what} failed: {}", output.trim()),
            ClusterError::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for ClusterError {}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// A running private cluster.
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    as_postgres_user: bool,
    /// Whether this process started the server (and so stops it).
    started_here: bool,
}

/// Where the server programs are: a directory holding `initdb`, `pg_ctl` and `postgres`.
pub fn find_server_programs() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|program| dir.join(program).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|dir| has_all(dir)) {
        return Some(dir);
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    if let Some(dir) = from_pg_config.filter(|dir| has_all(dir)) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether this process runs as root (PostgreSQL must then run as `postgres`).
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|meta| meta.uid() == 0)
        .unwrap_or(false)
}

impl PrivateCluster {
    /// Uses the cluster under `lamina_dir`: attaches to it if a server is already
    /// running there, otherwise creates it (first run) and starts it.
    pub fn open(lamina_dir: &Path) -> Result<PrivateCluster, ClusterError> {
        let bin_dir = find_server_programs().ok_or(ClusterError::NoServerPrograms)?;
        let as_postgres_user = running_as_root();
        std::fs::create_dir_all(lamina_dir).map_err(io_error(format!("creating {}", lamina_dir.display())))?;
        let lamina_dir = lamina_dir
            .canonicalize()
            .map_err(io_error(format!("resolving {}", lamina_dir.display())))?;
        let mut data_dir = lamina_dir.join("postgres");
        if as_postgres_user && !reachable_by_postgres(&lamina_dir) {
            // e.g. a clone under /root (mode 700): keep the cluster where the postgres
            // user can reach it, named after the data directory so it is found again.
            let name: String = lamina_dir
                .to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            data_dir = Path::new("/var/lib/lamina").join(name.trim_start_matches('_'));
            log::info!(
                "{} is not reachable by the {POSTGRES_OS_USER} OS user; the cluster lives in {} (delete it to start afresh)",
                lamina_dir.display(),
                data_dir.display()
            );
        }
        let mut cluster = PrivateCluster {
            socket_dir: data_dir.clone(),
            bin_dir,
            data_dir,
            as_postgres_user,
            started_here: false,
        };
        if let Some(socket_dir) = cluster.running_socket_dir() {
            log::info!(
                "using the PostgreSQL server already running in {}",
                cluster.data_dir.display()
            );
            cluster.socket_dir = socket_dir;
            return Ok(cluster);
        }
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            cluster.init(false)?;
        }
        cluster.start()?;
        Ok(cluster)
    }

    /// A new cluster in a temporary directory, for tests: fsync off, removed
    /// (server stopped, files deleted) by a watchdog once this process exits.
    pub fn throwaway() -> Result<PrivateCluster, ClusterError> {
        let bin_dir = find_server_programs().ok_or(ClusterError::NoServerPrograms)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0);
        let data_dir = std::env::temp_dir().join(format!("lamina-test-{}-{nanos}", std::process::id()));
        let mut cluster = PrivateCluster {
            socket_dir: data_dir.clone(),
            bin_dir,
            data_dir,
            as_postgres_user: running_as_root(),
            started_here: false,
        };
        cluster.init(true)?;
        cluster.start()?;
        cluster.watch_this_process()?;
        Ok(cluster)
    }

    /// A URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        let host: String = self
            .socket_dir
            .to_string_lossy()
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("postgresql:///{database}?user={SUPERUSER}&host={host}&port={PORT}")
    }

    /// Where the cluster's files are.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server if this process started it; a server found running is left alone.
    pub fn stop(&self) -> Result<(), ClusterError> {
        if !self.started_here {
            return Ok(());
        }
        log::info!("stopping the private PostgreSQL server in {}", self.data_dir.display());
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        self.run(
            "pg_ctl stop",
            "pg_ctl",
            &["stop", "-D", &data_dir, "-m", "fast", "-w", "-t", "60"],
        )
    }

    /// `initdb` into `data_dir`, owned by the `postgres` user when running as root.
    fn init(&self, throwaway: bool) -> Result<(), ClusterError> {
        log::info!("creating a PostgreSQL cluster in {}", self.data_dir.display());
        std::fs::create_dir_all(&self.data_dir).map_err(io_error(format!("creating {}", self.data_dir.display())))?;
        if self.as_postgres_user {
            let owner = format!("{POSTGRES_OS_USER}:");
            let status = Command::new("chown")
                .args([owner.as_str(), &self.data_dir.to_string_lossy()])
                .status()
                .map_err(io_error("running chown"))?;
            if !status.success() {
                return Err(ClusterError::Command {
                    what: format!("chown {POSTGRES_OS_USER}: {}", self.data_dir.display()),
                    output: String::new(),
                });
            }
        }
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        let mut args = vec![
            "-D",
            &data_dir,
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
        ];
        if throwaway {
            args.push("--no-sync");
        }
        self.run("initdb", "initdb", &args)?;
        let mut settings = String::from(
            "\n# Added by lamina: Unix socket only, reachable by its owner only.\n\
             listen_addresses = ''\nunix_socket_permissions = 0700\n",
        );
        if throwaway {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n");
        }
        let conf = self.data_dir.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(io_error(format!("reading {}", conf.display())))?;
        text.push_str(&settings);
        std::fs::write(&conf, text).map_err(io_error(format!("writing {}", conf.display())))
    }

    /// Starts the server and waits until it accepts connections.
    fn start(&mut self) -> Result<(), ClusterError> {
        let data_dir = self.data_dir.to_string_lossy().into_owned();
        let safe = |dir: &str| {
            dir.len() <= MAX_SOCKET_DIR_LEN && dir.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        };
        if !safe(&data_dir) {
            let dir = std::env::temp_dir().join(format!("lamina-socket-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(io_error(format!("creating {}", dir.display())))?;
            if self.as_postgres_user {
                let _ = Command::new("chown")
                    .args([&format!("{POSTGRES_OS_USER}:"), &*dir.to_string_lossy()])
                    .status();
            }
            self.socket_dir = dir;
        }
        let options = format!("-k '{}' -p {PORT}", self.socket_dir.display());
        let log_file = self.data_dir.join("lamina-postgres.log").to_string_lossy().into_owned();
        log::info!("starting the private PostgreSQL server in {data_dir}");
        let started = self.run(
            "pg_ctl start",
            "pg_ctl",
            &[
                "start", "-w", "-t", "120", "-D", &data_dir, "-l", &log_file, "-o", &options,
            ],
        );
        match started {
            Ok(()) => {
                self.started_here = true;
                Ok(())
            }
            // Another lamina may have started it a moment ago.
            Err(err) => match self.running_socket_dir() {
                Some(socket_dir) => {
                    self.socket_dir = socket_dir;
                    Ok(())
                }
                None => Err(err),
            },
        }
    }

    /// The socket directory of a server running on `data_dir`, from its `postmaster.pid`.
    fn running_socket_dir(&self) -> Option<PathBuf> {
        let pid_file = std::fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let lines: Vec<&str> = pid_file.lines().collect();
        let pid: u32 = lines.first()?.trim().parse().ok()?;
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        let ready = lines.get(7).is_some_and(|status| status.trim() == "ready");
        let socket_dir = lines
            .get(4)
            .map(|dir| PathBuf::from(dir.trim()))
            .filter(|dir| !dir.as_os_str().is_empty())?;
        (alive && ready).then_some(socket_dir)
    }

    /// Starts a detached watchdog that stops the server and deletes its files
    /// once this process has exited, however it exits.
    fn watch_this_process(&self) -> Result<(), ClusterError> {
        let quote = |path: &Path| format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"));
        let pg_ctl = self.command_line("pg_ctl");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} stop -D {data} -m immediate >/dev/null 2>&1; rm -rf {data} {socket}",
            pid = std::process::id(),
            data = quote(&self.data_dir),
            socket = quote(&self.socket_dir),
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_error("starting the cluster watchdog (setsid sh)"))?;
        Ok(())
    }

    /// A shell command line running `program` as the right OS user.
    fn command_line(&self, program: &str) -> String {
        let path = format!(
            "'{}'",
            self.bin_dir.join(program).to_string_lossy().replace('\'', r"'\''")
        );
        if self.as_postgres_user {
            format!("runuser -u {POSTGRES_OS_USER} -- {path}")
        } else {
            path
        }
    }

    /// Runs a server program as the right OS user, from `/` (root's working
    /// directory may be unreadable to `postgres`).
    fn run(&self, what: &str, program: &str, args: &[&str]) -> Result<(), ClusterError> {
        let program = self.bin_dir.join(program);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", POSTGRES_OS_USER, "--"]).arg(&program);
            command
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir("/")
            .stdin(Stdio::null())
            .output()
            .map_err(io_error(format!("running {}", program.display())))?;
        if output.status.success() {
            Ok(())
        } else {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            Err(ClusterError::Command {
                what: what.to_owned(),
                output: text,
            })
        }
    }
}

/// Whether the `postgres` OS user can search `dir` (and so every ancestor).
fn reachable_by_postgres(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", POSTGRES_OS_USER, "--", "test", "-x"])
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

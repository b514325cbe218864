//! A private PostgreSQL cluster, run from the server programs installed on the
//! machine, for when no `DATABASE_URL` is given.
//!
//! The cluster listens on a Unix socket only (no TCP port to collide with),
//! with trust authentication limited to the socket's owner. When lamina runs
//! as root, PostgreSQL (which refuses root) runs as the `postgres` OS user.
//!
//! One `lamina serve` owns the cluster: it holds an exclusive lock on
//! `lamina.lock` in the data directory, supervises the server (restarting it
//! if it dies) and stops it on exit. A second `serve` on the same directory
//! refuses to start; short commands (`seed`, `token`, `migrate`) use the
//! running server as clients. A server left running by a lamina that was
//! killed is adopted by the next `serve`.

use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The OS user PostgreSQL runs as when lamina is started as root.
const POSTGRES_OS_USER: &str = "postgres";
/// The database superuser created by `initdb`.
const SUPERUSER: &str = "postgres";
/// The socket file is `.s.PGSQL.<port>`; no TCP port is opened.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes; leave room for `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;
/// The lock file, in the lamina data directory, held by the `serve` owning the cluster.
const LOCK_FILE: &str = "lamina.lock";
/// How often the supervisor checks that the server runs.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// The first wait between restart attempts; it doubles up to [`MAX_RESTART_DELAY`].
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(100);
/// The longest wait between restart attempts.
const MAX_RESTART_DELAY: Duration = Duration::from_secs(5);
/// How long to wait for a server that another process is starting.
const READY_WAIT: Duration = Duration::from_secs(120);

/// Why the private cluster could not be used.
#[derive(Debug)]
pub enum ClusterError {
    /// `initdb`, `pg_ctl` and `postgres` were not found.
    NoServerPrograms,
    /// A PostgreSQL program or helper failed.
    Command { what: String, output: String },
    /// A file system operation failed.
    Io { what: String, source: std::io::Error },
    /// Another `lamina` (process `holder`, if known) owns the cluster in `lamina_dir`.
    InUse {
        lamina_dir: PathBuf,
        holder: Option<String>,
    },
    /// `postmaster.pid` names a live process that is not a PostgreSQL server on this data directory.
    StalePidFile {
        pid_file: PathBuf,
        data_dir: PathBuf,
        pid: u32,
        what: String,
    },
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
            ClusterError::InUse { lamina_dir, holder } => {
                let holder = holder
                    .as_deref()
                    .map_or_else(String::new, |holder| format!(" ({holder})"));
                write!(
                    f,
                    "another lamina{holder} is using the data directory {dir} and owns the PostgreSQL server \
                     there, so this `lamina serve` does not start (it would share that server and could stop it \
                     under the other). Stop the other lamina first, or give this one its own data directory \
                     (LAMINA_DATA_DIR=/some/other/dir), or set DATABASE_URL to a PostgreSQL server both can share.",
                    dir = lamina_dir.display()
                )
            }
            ClusterError::StalePidFile {
                pid_file,
                data_dir,
                pid,
                what,
            } => write!(
                f,
                "{file} names process {pid} as the PostgreSQL server of {data}, but process {pid} is {what}, \
                 not a PostgreSQL server on that data directory: the file is stale (left by a PostgreSQL server \
                 that did not stop cleanly, its process id since reused). If no PostgreSQL server runs on {data}, \
                 delete {file} and start lamina again.",
                file = pid_file.display(),
                data = data_dir.display(),
            ),
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
    server: Server,
    /// Whether this process owns the server (started or adopted it) and so stops it.
    owned: bool,
    /// The data directory's lock, held while this process owns the server.
    lock: Option<File>,
}

/// What uses the cluster: `serve` owns it; a short command is a client of a
/// running server (or starts one for its own run when none is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// `lamina serve`.
    Serve,
    /// A short command such as `seed`, by name.
    Command(&'static str),
}

impl Usage {
    fn name(self) -> &'static str {
        match self {
            Usage::Serve => "serve",
            Usage::Command(name) => name,
        }
    }
}

/// Where a server's files and socket are, and how to run its programs.
#[derive(Debug, Clone)]
struct Server {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    as_postgres_user: bool,
    /// The server this process started.
    /// Being its parent, this process reaps it at once when it dies; an
    /// unreaped postmaster still counts as running for a new one.
    child: Arc<Mutex<Option<Child>>>,
}

/// What `postmaster.pid` says about the data directory.
#[derive(Debug)]
enum Found {
    /// No server runs: no file, or its process is gone.
    Nothing,
    /// A PostgreSQL server runs on the data directory.
    Running { socket_dir: Option<PathBuf>, ready: bool },
    /// The file names a live process that is not a PostgreSQL server on the data directory.
    Foreign { pid: u32, what: String },
}

/// The data directory's lock: ours, or held by another lamina.
enum Lock {
    Acquired(File),
    HeldBy(Option<String>),
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
    /// Uses the cluster under `lamina_dir`. For `serve`: takes the data
    /// directory's lock (refusing if another lamina holds it), then adopts the
    /// server left running there or creates (first run) and starts one. For a
    /// short command: uses the running server, or starts one for its own run.
    pub fn open(lamina_dir: &Path, usage: Usage) -> Result<PrivateCluster, ClusterError> {
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
            server: Server {
                socket_dir: data_dir.clone(),
                bin_dir,
                data_dir,
                as_postgres_user,
                child: Arc::default(),
            },
            owned: false,
            lock: None,
        };
        let lock = match lock_data_dir(&lamina_dir, usage)? {
            Lock::HeldBy(holder) if usage == Usage::Serve => {
                return Err(ClusterError::InUse { lamina_dir, holder });
            }
            // The lamina holding the lock starts (or restarts) the server: wait for it.
            Lock::HeldBy(_) => return cluster.use_running(),
            Lock::Acquired(lock) => lock,
        };
        match cluster.server.inspect() {
            Found::Foreign { pid, what } => return Err(cluster.server.stale_pid_file(pid, what)),
            Found::Running { .. } if usage != Usage::Serve => return cluster.use_running(),
            Found::Running { .. } => {
                log::info!(
                    "adopting the PostgreSQL server left running in {} (no lamina owned it)",
                    cluster.server.data_dir.display()
                );
                cluster.server.wait_until_running()?;
            }
            Found::Nothing => {
                if !cluster.server.data_dir.join("PG_VERSION").is_file() {
                    cluster.server.init(false)?;
                }
                cluster.server.choose_socket_dir()?;
                cluster.server.start()?;
            }
        }
        cluster.owned = true;
        cluster.lock = Some(lock);
        Ok(cluster)
    }

    /// This cluster as a client of the server running on it, left running on exit.
    fn use_running(mut self) -> Result<PrivateCluster, ClusterError> {
        self.server.wait_until_running()?;
        log::info!(
            "using the PostgreSQL server already running in {}",
            self.server.data_dir.display()
        );
        Ok(self)
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
        let mut server = Server {
            socket_dir: data_dir.clone(),
            bin_dir,
            data_dir,
            as_postgres_user: running_as_root(),
            child: Arc::default(),
        };
        server.init(true)?;
        server.choose_socket_dir()?;
        server.start()?;
        let cluster = PrivateCluster {
            server,
            owned: true,
            lock: None,
        };
        cluster.watch_this_process()?;
        Ok(cluster)
    }

    /// A URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        let host: String = self
            .server
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
        &self.server.data_dir
    }

    /// Whether this process owns the server: started or adopted it, supervises and stops it.
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// Stops the server if this process owns it; a server it only used is left alone.
    /// Stop the [`Supervisor`] first, or it starts the server again.
    pub fn stop(&self) -> Result<(), ClusterError> {
        if !self.owned {
            return Ok(());
        }
        match self.server.inspect() {
            Found::Running { .. } => {}
            Found::Nothing => {
                log::warn!(
                    "the private PostgreSQL server in {} was not running any more",
                    self.server.data_dir.display()
                );
                return Ok(());
            }
            // pg_ctl would signal that pid, whatever process has it now.
            Found::Foreign { pid, what } => {
                log::warn!(
                    "not stopping anything in {}: postmaster.pid names process {pid} ({what}), which is not its PostgreSQL server",
                    self.server.data_dir.display()
                );
                return Ok(());
            }
        }
        log::info!(
            "stopping the private PostgreSQL server in {}",
            self.server.data_dir.display()
        );
        let data_dir = self.server.data_dir.to_string_lossy().into_owned();
        self.server.run(
            "pg_ctl stop",
            "pg_ctl",
            &["stop", "-D", &data_dir, "-m", "fast", "-w", "-t", "60"],
        )?;
        if let Some(mut child) = self.server.child.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = child.wait();
        }
        Ok(())
    }

    /// Starts supervising the server (within a tokio runtime): when it dies,
    /// it is started again, with backoff, until [`Supervisor::stop`].
    pub fn supervise(&self) -> Supervisor {
        let health = Arc::new(ClusterHealth::default());
        let stop = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(supervise(self.server.clone(), health.clone(), stop.clone()));
        Supervisor { health, stop, task }
    }

    /// Starts a detached watchdog that stops the server and deletes its files
    /// once this process has exited, however it exits.
    fn watch_this_process(&self) -> Result<(), ClusterError> {
        let quote = |path: &Path| format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"));
        let pg_ctl = self.server.command_line("pg_ctl");
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} stop -D {data} -m immediate >/dev/null 2>&1; rm -rf {data} {socket}",
            pid = std::process::id(),
            data = quote(&self.server.data_dir),
            socket = quote(&self.server.socket_dir),
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
}

/// What the supervisor knows of the server, shared with readiness checks.
#[derive(Debug, Default)]
pub struct ClusterHealth {
    problem: Mutex<Option<String>>,
}

impl ClusterHealth {
    /// Why the server cannot answer, when the supervisor knows (it is being restarted).
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records why the server cannot answer, or (`None`) that it runs again.
    pub fn set_problem(&self, problem: Option<String>) {
        *self.problem.lock().unwrap_or_else(PoisonError::into_inner) = problem;
    }
}

/// The task restarting the server when it dies.
#[derive(Debug)]
pub struct Supervisor {
    health: Arc<ClusterHealth>,
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Supervisor {
    /// The server's health as the supervisor sees it.
    pub fn health(&self) -> Arc<ClusterHealth> {
        self.health.clone()
    }

    /// Stops supervising (after a restart under way, if any, has finished).
    pub async fn stop(self) {
        self.stop.notify_one();
        if let Err(err) = self.task.await {
            log::error!("the PostgreSQL supervisor failed: {err}");
        }
    }
}

/// Polls the server every [`POLL_INTERVAL`]; when its postmaster is gone
/// (killed, crashed, stopped behind lamina's back), starts it again, waiting
/// [`FIRST_RESTART_DELAY`] doubling to [`MAX_RESTART_DELAY`] between attempts
/// (backends of a killed postmaster may hold its shared memory for a moment).
async fn supervise(server: Server, health: Arc<ClusterHealth>, stop: Arc<tokio::sync::Notify>) {
    loop {
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(POLL_INTERVAL) => {}
        }
        server.reap();
        match server.inspect() {
            Found::Running { .. } => continue,
            Found::Foreign { pid, what } => {
                // Restarting cannot work while that process lives; say why and wait.
                health.set_problem(Some(format!(
                    "the private PostgreSQL server is gone and its postmaster.pid names process {pid} ({what}); \
                     delete the file if no PostgreSQL runs there"
                )));
                continue;
            }
            Found::Nothing => {}
        }
        log::warn!(
            "the private PostgreSQL server in {} exited unexpectedly; restarting it",
            server.data_dir.display()
        );
        let down_since = Instant::now();
        let mut delay = FIRST_RESTART_DELAY;
        let mut attempt: u32 = 1;
        loop {
            health.set_problem(Some(format!(
                "the private PostgreSQL server exited unexpectedly and is being restarted (attempt {attempt})"
            )));
            let starting = server.clone();
            match tokio::task::spawn_blocking(move || starting.start()).await {
                Ok(Ok(())) => {
                    log::info!(
                        "restarted the private PostgreSQL server in {} (attempt {attempt}, {:.1} s after it was found gone)",
                        server.data_dir.display(),
                        down_since.elapsed().as_secs_f64()
                    );
                    health.set_problem(None);
                    break;
                }
                Ok(Err(err)) => log::warn!(
                    "restarting the private PostgreSQL server failed (attempt {attempt}); retrying in {} ms: {err}",
                    delay.as_millis()
                ),
                Err(err) => log::error!("restarting the private PostgreSQL server failed: {err}"),
            }
            tokio::select! {
                () = stop.notified() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_RESTART_DELAY);
            attempt = attempt.saturating_add(1);
        }
    }
}

/// Takes the exclusive lock of the lamina data directory and records this
/// process in it, or says which process holds it.
fn lock_data_dir(lamina_dir: &Path, usage: Usage) -> Result<Lock, ClusterError> {
    let path = lamina_dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {
            let record = format!("{} {}\n", std::process::id(), usage.name());
            file.set_len(0)
                .and_then(|()| file.write_all(record.as_bytes()))
                .map_err(io_error(format!("writing {}", path.display())))?;
            Ok(Lock::Acquired(file))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut record = String::new();
            let _ = file.read_to_string(&mut record);
            let holder = record
                .split_once(' ')
                .and_then(|(pid, command)| Some((pid.trim().parse::<u32>().ok()?, command.trim().to_owned())))
                .map(|(pid, command)| format!("pid {pid}, `lamina {command}`"));
            Ok(Lock::HeldBy(holder))
        }
        Err(std::fs::TryLockError::Error(source)) => Err(ClusterError::Io {
            what: format!("locking {}", path.display()),
            source,
        }),
    }
}

impl Server {
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

    /// Puts the socket in the data directory, or in a temporary directory when
    /// the data directory's path is too long or odd for a socket path.
    fn choose_socket_dir(&mut self) -> Result<(), ClusterError> {
        let data_dir = self.data_dir.to_string_lossy();
        let safe = data_dir.len() <= MAX_SOCKET_DIR_LEN
            && data_dir
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b));
        if safe {
            self.socket_dir = self.data_dir.clone();
            return Ok(());
        }
        let dir = std::env::temp_dir().join(format!("lamina-socket-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(io_error(format!("creating {}", dir.display())))?;
        if self.as_postgres_user {
            let _ = Command::new("chown")
                .args([&format!("{POSTGRES_OS_USER}:"), &*dir.to_string_lossy()])
                .status();
        }
        self.socket_dir = dir;
        Ok(())
    }

    /// Starts the server as a child of this process (in its own process
    /// group, so a terminal's Ctrl-C reaches lamina only) and waits, like
    /// `pg_ctl start -w`, until it accepts connections.
    fn start(&self) -> Result<(), ClusterError> {
        log::info!("starting the private PostgreSQL server in {}", self.data_dir.display());
        let log_path = self.data_dir.join("lamina-postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io_error(format!("opening {}", log_path.display())))?;
        let log_too = log
            .try_clone()
            .map_err(io_error(format!("opening {}", log_path.display())))?;
        let postgres = self.bin_dir.join("postgres");
        let mut command = Command::new(&postgres);
        if self.as_postgres_user {
            // Not through `runuser`: a wrapper between lamina and the
            // postmaster would stop itself whenever the server is stopped
            // (SIGSTOP), and would outlive or hide the server's exit.
            let (uid, gid) = postgres_ids().ok_or_else(|| ClusterError::Command {
                what: format!("finding the {POSTGRES_OS_USER} OS user"),
                output: format!("no {POSTGRES_OS_USER} entry in /etc/passwd"),
            })?;
            command.uid(uid).gid(gid);
        }
        let mut child = command
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-k")
            .arg(&self.socket_dir)
            .args(["-p", &PORT.to_string()])
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_too)
            .process_group(0)
            .spawn()
            .map_err(io_error(format!("running {}", postgres.display())))?;
        let started = Instant::now();
        let failure = loop {
            match child.try_wait() {
                Ok(Some(status)) => break format!("postgres exited ({status})"),
                Err(err) => break format!("waiting for postgres: {err}"),
                Ok(None) => {}
            }
            if let Found::Running { ready: true, .. } = self.inspect() {
                *self.child.lock().unwrap_or_else(PoisonError::into_inner) = Some(child);
                return Ok(());
            }
            if started.elapsed() > READY_WAIT {
                let _ = child.kill();
                let _ = child.wait();
                break format!("it did not accept connections within {} s", READY_WAIT.as_secs());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reason is in the server's log: quote its end.
        let mut output = failure;
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(3).collect();
        for line in tail.into_iter().rev() {
            output.push_str("\n  ");
            output.push_str(line);
        }
        Err(ClusterError::Command {
            what: format!("starting the PostgreSQL server in {}", self.data_dir.display()),
            output,
        })
    }

    /// Reaps the server this process started if it has exited.
    fn reap(&self) {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        if child
            .as_mut()
            .is_some_and(|running| !matches!(running.try_wait(), Ok(None)))
        {
            *child = None;
        }
    }

    /// What `postmaster.pid` says: whether a PostgreSQL server runs on the data directory.
    fn inspect(&self) -> Found {
        let Ok(pid_file) = std::fs::read_to_string(self.data_dir.join("postmaster.pid")) else {
            return Found::Nothing;
        };
        let lines: Vec<&str> = pid_file.lines().collect();
        let Some(pid) = lines.first().and_then(|line| line.trim().parse::<u32>().ok()) else {
            return Found::Nothing;
        };
        if !process_alive(pid) {
            return Found::Nothing;
        }
        if let Some(what) = self.not_our_postgres(pid) {
            return Found::Foreign { pid, what };
        }
        Found::Running {
            socket_dir: lines
                .get(4)
                .map(|dir| PathBuf::from(dir.trim()))
                .filter(|dir| !dir.as_os_str().is_empty()),
            ready: lines.get(7).is_some_and(|status| status.trim() == "ready"),
        }
    }

    /// `None` if process `pid` is a PostgreSQL server on this data directory
    /// (as far as `/proc` tells), otherwise what it is.
    fn not_our_postgres(&self, pid: u32) -> Option<String> {
        let proc_dir = PathBuf::from(format!("/proc/{pid}"));
        let args: Vec<String> = std::fs::read(proc_dir.join("cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        let file_name = |path: &Path| path.file_name().map(|name| name.to_string_lossy().into_owned());
        let program = std::fs::read_link(proc_dir.join("exe"))
            .ok()
            .and_then(|exe| file_name(&exe))
            .map(|name| name.trim_end_matches(" (deleted)").to_owned())
            .or_else(|| args.first().and_then(|arg0| file_name(Path::new(arg0))));
        if !program.is_some_and(|program| program == "postgres" || program == "postmaster") {
            let command: String = args.join(" ").chars().take(160).collect();
            return Some(if command.is_empty() {
                "a process that is not PostgreSQL".to_owned()
            } else {
                format!("`{command}`")
            });
        }
        // A postmaster's working directory is its data directory.
        let cwd = std::fs::read_link(proc_dir.join("cwd")).ok()?;
        let data_dir = self.data_dir.canonicalize().unwrap_or_else(|_| self.data_dir.clone());
        (cwd != data_dir).then(|| format!("the PostgreSQL server of another data directory ({})", cwd.display()))
    }

    /// The error for a `postmaster.pid` naming process `pid`, which is `what`.
    fn stale_pid_file(&self, pid: u32, what: String) -> ClusterError {
        ClusterError::StalePidFile {
            pid_file: self.data_dir.join("postmaster.pid"),
            data_dir: self.data_dir.clone(),
            pid,
            what,
        }
    }

    /// Waits until the server running on the data directory accepts
    /// connections (another process may be starting it) and uses its socket.
    fn wait_until_running(&mut self) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            match self.inspect() {
                Found::Running {
                    socket_dir: Some(socket_dir),
                    ready: true,
                } => {
                    self.socket_dir = socket_dir;
                    return Ok(());
                }
                Found::Foreign { pid, what } => return Err(self.stale_pid_file(pid, what)),
                _ if started.elapsed() > READY_WAIT => {
                    return Err(ClusterError::Command {
                        what: format!("waiting for the PostgreSQL server in {}", self.data_dir.display()),
                        output: format!("it did not accept connections within {} s", READY_WAIT.as_secs()),
                    });
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
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

/// Whether process `pid` exists and has not exited (a zombie has).
fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (comm) state …`; comm may hold spaces and parentheses.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X'))
}

/// The uid and gid of the `postgres` OS user, from `/etc/passwd`.
fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != POSTGRES_OS_USER {
            return None;
        }
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
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

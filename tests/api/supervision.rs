//! The private cluster as a supervised child of `lamina serve`: restarted
//! when its postmaster dies, adopted when a killed lamina left it running,
//! owned by one `serve` at a time, and a stale `postmaster.pid` explained.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;

use crate::common::{TestApp, free_port, raw_http, send};

const ARTICLE: &str = "/v1/articles/explore-micro-needling-for-flawless-skin-today";

/// A scratch directory holding a lamina data directory; on drop, any
/// PostgreSQL server left on it is shut down and the directory removed.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("lamina-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn pid_file(&self) -> PathBuf {
        self.data_dir().join("postgres/postmaster.pid")
    }

    /// The postmaster's pid, from `postmaster.pid`.
    fn postmaster(&self) -> Option<u32> {
        std::fs::read_to_string(self.pid_file())
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Starts `lamina` (it serves) on a free port, and waits until it answers.
    fn serving(&self, log: &str) -> Lamina {
        let mut lamina = self.lamina(&[], free_port(), log);
        lamina.wait_serving();
        lamina
    }

    /// [`serving`](Self::serving), and the pid of the PostgreSQL server it runs.
    fn serving_with_server(&self, log: &str) -> (Lamina, u32) {
        let lamina = self.serving(log);
        let postmaster = self.postmaster().expect("a running PostgreSQL server");
        (lamina, postmaster)
    }

    /// Starts `lamina <args>` on this data directory, its log in `<log>.log`.
    fn lamina(&self, args: &[&str], port: u16, log: &str) -> Lamina {
        let log = self.dir.join(format!("{log}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_lamina"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("LAMINA_DATA_DIR", self.data_dir())
            .env("LAMINA_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Lamina { child, port, log }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(pid) = self.postmaster().filter(|&pid| alive(pid)) {
            // SIGQUIT: immediate shutdown of the postmaster and its backends.
            let _ = Command::new("kill").args(["-QUIT", &pid.to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `lamina`, killed on drop.
struct Lamina {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Lamina {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log once it holds `text` (lamina writes its log every few milliseconds).
    fn log_with(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let log = self.log();
            if log.contains(text) || started.elapsed() > Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the seeded article is served.
    fn wait_serving(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Some(response) = raw_http(self.port, "GET", ARTICLE) {
                assert!(response.starts_with("HTTP/1.1 200"), "{response}");
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("lamina exited ({status}) before serving:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("lamina did not serve within 90 s:\n{}", self.log());
    }

    /// Waits up to `timeout` for lamina to exit.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lamina did not exit within {timeout:?}:\n{}", self.log());
    }

    /// SIGTERM, then waits for a clean exit.
    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = self.wait_exit(Duration::from_secs(30));
        assert!(status.success(), "{status}:\n{}", self.log());
    }

    /// [`terminate`](Self::terminate), then checks that it stopped the
    /// PostgreSQL server `postmaster` within 10 s and removed its pid file.
    fn terminate_with_server(&mut self, postmaster: u32, scratch: &Scratch) {
        self.terminate();
        assert!(
            wait_gone(postmaster, Duration::from_secs(10)),
            "the server was stopped:\n{}",
            self.log()
        );
        assert!(!scratch.pid_file().exists());
    }
}

impl Drop for Lamina {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether process `pid` runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn kill9(pid: u32) {
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let started = Instant::now();
    while alive(pid) && started.elapsed() < timeout {
        std::thread::sleep(Duration::from_millis(50));
    }
    !alive(pid)
}

#[test]
fn a_killed_postmaster_is_restarted_and_requests_recover() {
    let scratch = Scratch::new("supervise-restart");
    let (mut lamina, postmaster) = scratch.serving_with_server("serve");

    kill9(postmaster);
    let killed = Instant::now();
    // Backends outlive their postmaster for a moment, so the first answers may
    // still be 200: wait for the outage to show, then for the recovery.
    let mut reason = None;
    let mut down = false;
    let mut ready_after = None;
    while killed.elapsed() < Duration::from_secs(30) {
        let response = raw_http(lamina.port, "GET", "/readyz").unwrap_or_default();
        if response.starts_with("HTTP/1.1 200") {
            if down {
                ready_after = Some(killed.elapsed());
                break;
            }
        } else {
            assert!(response.starts_with("HTTP/1.1 503"), "{response}");
            down = true;
            if response.contains("being restarted") {
                reason = Some(response);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ready_after = ready_after.unwrap_or_else(|| panic!("not ready again within 30 s:\n{}", lamina.log()));
    let article = raw_http(lamina.port, "GET", ARTICLE).unwrap();
    let served_after = killed.elapsed();
    assert!(article.starts_with("HTTP/1.1 200"), "{article}");
    eprintln!(
        "recovery after kill -9 of the postmaster: /readyz 200 after {} ms, article 200 after {} ms",
        ready_after.as_millis(),
        served_after.as_millis()
    );
    let reason = reason.expect("/readyz said why it was not ready");
    assert!(
        reason.contains("the private PostgreSQL server exited unexpectedly and is being restarted (attempt "),
        "{reason}"
    );
    assert!(
        reason.contains("Retry-After: 1") || reason.contains("retry-after: 1"),
        "{reason}"
    );
    assert!(
        raw_http(lamina.port, "GET", "/healthz")
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    let log = lamina.log_with("restarted the private PostgreSQL server");
    assert!(log.contains("exited unexpectedly; restarting it"), "{log}");
    assert!(log.contains("restarted the private PostgreSQL server"), "{log}");
    let restarted = scratch.postmaster().unwrap();
    assert_ne!(restarted, postmaster);

    lamina.terminate_with_server(restarted, &scratch);
}

#[test]
fn a_server_left_by_a_killed_lamina_is_adopted_and_stopped() {
    let scratch = Scratch::new("supervise-adopt");
    let (mut first, postmaster) = scratch.serving_with_server("first");
    kill9(first.child.id());
    first.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(postmaster), "the orphaned server runs on");

    let mut second = scratch.serving("second");
    let log = second.log_with("adopting");
    assert!(log.contains("adopting the PostgreSQL server left running in"), "{log}");
    assert_eq!(scratch.postmaster(), Some(postmaster), "the same server, not another");

    second.terminate_with_server(postmaster, &scratch);
}

#[test]
fn a_second_serve_on_the_same_data_dir_refuses_and_leaves_the_first_alone() {
    let scratch = Scratch::new("supervise-lock");
    let (mut first, postmaster) = scratch.serving_with_server("first");

    let started = Instant::now();
    let mut second = scratch.lamina(&["serve"], free_port(), "second");
    let status = second.wait_exit(Duration::from_secs(20));
    assert!(!status.success());
    assert!(started.elapsed() < Duration::from_secs(10), "refused quickly");
    let message = second.log();
    let data_dir = scratch.data_dir().canonicalize().unwrap();
    assert!(message.contains(&data_dir.display().to_string()), "{message}");
    assert!(message.contains(&format!("pid {}", first.child.id())), "{message}");
    assert!(
        message.contains("LAMINA_DATA_DIR") && message.contains("DATABASE_URL"),
        "{message}"
    );

    std::thread::sleep(Duration::from_millis(500));
    assert!(alive(postmaster));
    assert!(
        raw_http(first.port, "GET", ARTICLE)
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );
    first.terminate();
    assert!(wait_gone(postmaster, Duration::from_secs(10)));
}

#[test]
fn a_stale_postmaster_pid_naming_another_process_is_explained() {
    let scratch = Scratch::new("supervise-stale");
    // Create the cluster, then leave it stopped.
    let mut migrate = scratch.lamina(&["migrate"], free_port(), "migrate");
    let status = migrate.wait_exit(Duration::from_secs(90));
    assert!(status.success(), "{}", migrate.log());
    assert!(!scratch.pid_file().exists());

    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id();
    let postgres_dir = scratch.data_dir().join("postgres");
    std::fs::write(
        scratch.pid_file(),
        format!(
            "{pid}\n{dir}\n1700000000\n5432\n{dir}\n\n  5432001         0\nready   \n",
            dir = postgres_dir.display()
        ),
    )
    .unwrap();

    let mut lamina = scratch.lamina(&[], free_port(), "serve");
    let status = lamina.wait_exit(Duration::from_secs(30));
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(!status.success());
    let message = lamina.log();
    assert!(message.contains(&format!("process {pid}")), "{message}");
    assert!(message.contains("`sleep 30`"), "{message}");
    assert!(message.contains("stale"), "{message}");
    assert!(message.contains("postmaster.pid"), "{message}");
    std::fs::remove_file(scratch.pid_file()).unwrap();
}

#[actix_web::test]
async fn readiness_says_why_while_the_server_is_restarted() {
    let app = TestApp::new().await;
    let health = std::sync::Arc::new(lamina::db::cluster::ClusterHealth::default());
    let state = lamina::AppState {
        cluster: Some(health.clone()),
        ..app.state()
    };
    let service = actix_web::test::init_service(lamina::build_app(state)).await;
    let ready = send(&service, TestRequest::get().uri("/readyz")).await;
    ready.assert_status(200);

    health.set_problem(Some(
        "the private PostgreSQL server exited unexpectedly and is being restarted (attempt 3)".to_owned(),
    ));
    let ready = send(&service, TestRequest::get().uri("/readyz")).await;
    let problem = ready.assert_problem(503, "service_unavailable");
    assert_eq!(ready.header("retry-after"), Some("1"));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("is being restarted (attempt 3)"),
        "{problem}"
    );
    assert!(problem["request_id"].is_string(), "{problem}");
    let health_check = send(&service, TestRequest::get().uri("/healthz")).await;
    health_check.assert_status(200);

    health.set_problem(None);
    assert_eq!(send(&service, TestRequest::get().uri("/readyz")).await.status, 200);
}

/// One raw HTTP/1.1 exchange; the response text and how long it took.
fn exchange(port: u16, request: &str) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    (String::from_utf8_lossy(&response).into_owned(), started.elapsed())
}

/// The postmaster and every process it started.
fn cluster_processes(postmaster: u32) -> Vec<u32> {
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        if parent == Some(postmaster) {
            pids.push(pid);
        }
    }
    pids
}

fn signal(pids: &[u32], name: &str) {
    for pid in pids {
        let _ = Command::new("kill").args([name, &pid.to_string()]).status();
    }
}

/// A stalled database (every PostgreSQL process stopped with SIGSTOP, so no
/// server-side timeout can fire): every request that needs it answers 503
/// with Retry-After within 5 s, cached public reads go on, and lamina
/// recovers by itself once the database runs again.
#[test]
fn a_stalled_database_answers_503_within_5_s_and_recovers() {
    let scratch = Scratch::new("stall");
    let mut lamina = scratch.serving("serve");
    let token = Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(["token", "create", "--name", "staller", "--role", "editor"])
        .env_remove("DATABASE_URL")
        .env("LAMINA_DATA_DIR", scratch.data_dir())
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("lamina_"));
    let port = lamina.port;
    raw_http(port, "GET", ARTICLE).unwrap();

    let processes = cluster_processes(scratch.postmaster().unwrap());
    assert!(processes.len() > 2, "{processes:?}");
    signal(&processes, "-STOP");
    let body = r#"{"kind":"overview","heading":"Stalled","body":"Written while the database stalls."}"#;
    let requests = [
        format!("GET {ARTICLE}/sections/steps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        format!(
            "PUT {ARTICLE}/sections/overview HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nIf-Match: *\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_owned(),
        format!(
            "GET {ARTICLE}/revisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    ];
    let answers: Vec<(String, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = requests
            .iter()
            .map(|request| scope.spawn(|| exchange(port, request)))
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let cached = exchange(
        port,
        &format!("GET {ARTICLE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    );
    signal(&processes, "-CONT");
    for (answer, took) in &answers {
        eprintln!(
            "stalled database: answered in {} ms: {}",
            took.as_millis(),
            answer.lines().next().unwrap_or("")
        );
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(*took < Duration::from_secs(5), "took {took:?}");
    }
    assert!(cached.0.starts_with("HTTP/1.1 200"), "cached reads go on: {}", cached.0);

    let resumed = Instant::now();
    loop {
        let (steps, _) = exchange(port, &requests[0]);
        let (put, _) = exchange(port, &requests[1]);
        if steps.starts_with("HTTP/1.1 200") && put.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(10),
            "not recovered: {steps}\n{put}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "stalled database: recovered {} ms after SIGCONT",
        resumed.elapsed().as_millis()
    );
    lamina.terminate();
}

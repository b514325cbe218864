//! What the HTTP layer answers before a request reaches a handler, over raw
//! TCP against the real `lamina serve`: framing errors, oversized and slow
//! request heads, and `Expect: 100-continue`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{SEED, TestApp};

/// The head timeout the server under test runs with.
const HEAD_TIMEOUT_MS: u64 = 1_000;

struct Server {
    child: Child,
    port: u16,
    /// Where its standard error (the request log) goes.
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Server {
    /// `lamina serve` on this test's database, once it answers.
    fn start(app: &TestApp) -> Server {
        Server::start_with(app, &[])
    }

    /// [`Server::start`] with more environment variables.
    fn start_with(app: &TestApp, env: &[(&str, &str)]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::env::temp_dir().join(format!("lamina-http-layer-{}-{port}.log", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_lamina"))
            .env("DATABASE_URL", &app.db.url)
            .env("LAMINA_BIND", format!("127.0.0.1:{port}"))
            .env("LAMINA_WORKERS", "1")
            .env("LAMINA_CLIENT_HEADER_TIMEOUT_MS", HEAD_TIMEOUT_MS.to_string())
            .env("LAMINA_BODY_TIMEOUT_SECS", "1")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, port, log };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                if answer.starts_with(b"HTTP/1.1 200") {
                    return server;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("lamina serve did not answer within 60 s");
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    /// Sends `bytes` and reads until the server closes the connection.
    fn exchange(&self, bytes: &[u8]) -> Answer {
        let mut stream = self.connect();
        stream.write_all(bytes).unwrap();
        read_to_close(&mut stream)
    }
}

/// Reads until the server closes the connection. A server that stops reading
/// a request midway may reset the connection after its answer: that is an end too.
fn read_to_close(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset && !bytes.is_empty() => break,
            Err(err) => panic!("reading failed ({err}) after {:?}", String::from_utf8_lossy(&bytes)),
        }
    }
    Answer::parse(&bytes)
}

/// One response, read whole.
#[derive(Debug)]
struct Answer {
    status_line: String,
    head: String,
    body: String,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(bytes);
        let (head, _) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete response: {text:?}"));
        let body = String::from_utf8_lossy(&bytes[head.len() + 4..]).into_owned();
        let status_line = head.lines().next().unwrap_or_default().to_owned();
        Answer {
            status_line,
            head: head.to_owned(),
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    /// Asserts a whole problem+json answer with this status and code.
    fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert!(self.status_line.starts_with(&format!("HTTP/1.1 {status} ")), "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(
            self.header("content-length"),
            Some(self.body.len().to_string().as_str()),
            "{self:?}"
        );
        let problem: Value = serde_json::from_str(&self.body).unwrap();
        assert_eq!(problem["status"], status, "{problem}");
        assert_eq!(problem["code"], code, "{problem}");
        assert_eq!(problem["type"], format!("urn:lamina:problem:{code}"), "{problem}");
        assert!(
            problem["title"].is_string() && problem["detail"].is_string(),
            "{problem}"
        );
        problem
    }
}

#[actix_web::test]
async fn the_http_layers_own_errors_are_problems() {
    let app = TestApp::new().await;
    let server = Server::start(&app);

    let framing = server.exchange(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    framing.assert_problem(400, "bad_request_framing");
    assert_eq!(framing.header("connection"), Some("close"));

    let mut many_headers = String::from("GET /v1/articles HTTP/1.1\r\nHost: x\r\n");
    for n in 0..100 {
        many_headers.push_str(&format!("X-Filler-{n}: {n}\r\n"));
    }
    many_headers.push_str("\r\n");
    server
        .exchange(many_headers.as_bytes())
        .assert_problem(431, "request_header_too_large");

    let huge = format!(
        "GET /v1/articles HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(160 * 1024)
    );
    server
        .exchange(huge.as_bytes())
        .assert_problem(431, "request_header_too_large");

    // A head trickled in slower than the head timeout.
    let mut slow = server.connect();
    let started = Instant::now();
    for byte in b"GET /v1/articles HTTP/1.1\r\nHost: x\r\n" {
        if started.elapsed() > Duration::from_millis(HEAD_TIMEOUT_MS * 2) || slow.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    read_to_close(&mut slow).assert_problem(408, "request_timeout");

    // The server still answers ordinary requests as before.
    let ok = server.exchange(format!("GET {SEED} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    assert!(ok.status_line.starts_with("HTTP/1.1 200 "), "{ok:?}");
    assert_eq!(ok.header("content-type"), Some("application/json"), "{ok:?}");
    // The client's address reaches the application (rate limits key on it).
    let line = format!("127.0.0.1 \"GET {SEED} HTTP/1.1\" 200");
    let started = Instant::now();
    let mut log = String::new();
    while !log.contains(&line) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
        log = std::fs::read_to_string(&server.log).unwrap();
    }
    assert!(log.contains(&line), "no {line:?} in {log}");
}

#[actix_web::test]
async fn expect_continue_is_answered_only_to_those_who_may_write() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let preview = app.token("preview", lamina::auth::Role::Preview).await;
    let server = Server::start(&app);
    let body = r#"{"kind":"overview","heading":"What is Micro Needling?","body":"Sent after 100 Continue."}"#;
    let put = |authorization: &str| {
        format!(
            "PUT {SEED}/sections/overview HTTP/1.1\r\nHost: x\r\n{authorization}If-Match: *\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
    };

    // Refused before the body is sent: the final answer, never 100.
    let anonymous = server.exchange(put("X-Request-Id: expect-1\r\n").as_bytes());
    let problem = anonymous.assert_problem(401, "unauthorized");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer realm=\"lamina\""));
    assert_eq!(anonymous.header("x-request-id"), Some("expect-1"));
    assert_eq!(problem["request_id"], "expect-1");
    let bad = server.exchange(put("Authorization: Bearer lamina_not-a-token\r\n").as_bytes());
    bad.assert_problem(401, "unauthorized");
    assert_eq!(bad.header("www-authenticate"), Some("Bearer realm=\"lamina\""));
    server
        .exchange(put(&format!("Authorization: Bearer {preview}\r\n")).as_bytes())
        .assert_problem(403, "forbidden");

    // Reads need no token.
    let mut read = server.connect();
    read.write_all(
        format!("GET {SEED} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut text = String::new();
    read.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 "), "{text}");

    // An editor is invited to send the body, then answered.
    let mut stream = server.connect();
    stream
        .write_all(put(&format!("Authorization: Bearer {editor}\r\n")).as_bytes())
        .unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "closed after {interim:?}");
        interim.push(byte[0]);
    }
    assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let answer = read_to_close(&mut stream);
    assert!(answer.status_line.starts_with("HTTP/1.1 200 "), "{answer:?}");
    let section: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(section["body"], "Sent after 100 Continue.", "{section}");
}

/// actix-http times only a connection's first request head: a second request
/// trickled after a keep-alive answer must still be cut off (here after the
/// body timeout of 1 s + the 4 s database deadline + 5 s).
#[actix_web::test]
async fn a_trickled_second_request_does_not_hold_the_connection() {
    let app = TestApp::new().await;
    let server = Server::start(&app);
    let mut stream = server.connect();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 512];
    let n = stream.read(&mut first).unwrap();
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&first[..n])
    );
    stream.write_all(b"G").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let outcome = stream.read_to_end(&mut rest);
    assert!(
        outcome.is_ok() || started.elapsed() < Duration::from_secs(29),
        "the connection was still open after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "closed after {:?}",
        started.elapsed()
    );
}

/// A chunked body whose chunk size is no hex number, on an editor's write
/// (issue 24.13): a 400 problem+json and an access line, not a silent close;
/// nothing is written.
#[actix_web::test]
async fn a_malformed_chunked_body_on_a_write_gets_a_problem() {
    let app = TestApp::new().await;
    let editor = app.editor().await;
    let server = Server::start(&app);
    let path = format!("{SEED}/sections/overview");
    let before = server.exchange(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    for (n, bad_chunk) in [
        "zz\r\n{}\r\n0\r\n\r\n",
        "5\r\n{\"kind\"\r\n0\r\n\r\n",
        "ffffffffffffffffff\r\n",
    ]
    .into_iter()
    .enumerate()
    {
        let request_id = format!("chunky-{n}");
        let answer = server.exchange(
            format!(
                "PUT {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {editor}\r\nIf-Match: *\r\n\
                 X-Request-Id: {request_id}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\n\r\n{bad_chunk}"
            )
            .as_bytes(),
        );
        let problem = answer.assert_problem(400, "unreadable_body");
        assert_eq!(problem["request_id"], request_id.as_str(), "{problem}");
        assert_eq!(answer.header("x-request-id"), Some(request_id.as_str()));
        let line = format!("\"PUT {path} HTTP/1.1\" 400");
        let started = Instant::now();
        let mut log = String::new();
        while !(log.contains(&line) && log.contains(&request_id)) && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
            log = std::fs::read_to_string(&server.log).unwrap();
        }
        assert!(
            log.contains(&line) && log.contains(&request_id),
            "no {line:?} for {request_id} in {log}"
        );
    }
    let after = server.exchange(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!(after.body, before.body, "nothing was written");
}

/// Connections per process are bounded (issue 24.7): past
/// `LAMINA_MAX_CONNECTIONS`, a new connection waits in the listen backlog,
/// unanswered, until one of those held closes; then it is served.
#[actix_web::test]
async fn connections_past_the_bound_wait_until_one_closes() {
    let app = TestApp::new().await;
    let server = Server::start_with(
        &app,
        &[
            ("LAMINA_MAX_CONNECTIONS", "8"),
            ("LAMINA_CLIENT_HEADER_TIMEOUT_MS", "60000"),
        ],
    );
    // The readiness probe's connection may take a moment to be released.
    std::thread::sleep(Duration::from_millis(300));
    let idle: Vec<TcpStream> = (0..8).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = server.connect();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    waiting.set_read_timeout(Some(Duration::from_millis(1_500))).unwrap();
    let mut byte = [0u8; 1];
    let early = waiting.read(&mut byte);
    assert!(early.is_err(), "answered past the bound: {early:?}");
    drop(idle);
    waiting.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let answer = read_to_close(&mut waiting);
    assert!(answer.status_line.starts_with("HTTP/1.1 200 "), "{answer:?}");
}

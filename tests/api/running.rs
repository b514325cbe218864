//! The `lamina` binary as a user runs it: private cluster, a second command
//! sharing it, clean shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, raw_http};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_runs_its_own_cluster_shares_it_and_stops_it() {
    let dir = std::env::temp_dir().join(format!("lamina-run-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.join("data");
    let port = free_port();
    let lamina = env!("CARGO_BIN_EXE_lamina");
    let started = Instant::now();
    let server = Command::new(lamina)
        .env_remove("DATABASE_URL")
        .env("LAMINA_DATA_DIR", &data_dir)
        .env("LAMINA_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = KillOnDrop(server);

    let mut response = None;
    while started.elapsed() < Duration::from_secs(90) {
        if let Some(text) = raw_http(
            port,
            "GET",
            "/v1/articles/explore-micro-needling-for-flawless-skin-today",
        ) {
            response = Some(text);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let response = response.expect("lamina serve answered within 90 s");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Post-Treatment Care"));

    let head = raw_http(
        port,
        "HEAD",
        "/v1/articles/explore-micro-needling-for-flawless-skin-today",
    )
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"));
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head}");

    // A second command with the same data directory uses the running server.
    let seed = Command::new(lamina)
        .arg("seed")
        .env_remove("DATABASE_URL")
        .env("LAMINA_DATA_DIR", &data_dir)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&seed.stderr);
    assert!(seed.status.success(), "{log}");
    assert!(log.contains("already running"), "{log}");
    assert!(log.contains("already present"), "{log}");
    let list = raw_http(port, "GET", "/v1/articles").unwrap();
    assert_eq!(list.matches("\"slug\"").count(), 1, "no duplicate: {list}");

    // SIGTERM: lamina stops serving and stops the cluster it started, but a
    // request already under way is answered first.
    let token = Command::new(lamina)
        .args(["token", "create", "--name", "shutdown", "--role", "editor"])
        .env_remove("DATABASE_URL")
        .env("LAMINA_DATA_DIR", &data_dir)
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let body = r#"{"kind":"overview","heading":"What is Micro Needling?","body":"Written across a shutdown."}"#;
    let (first, rest) = body.split_at(20);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).unwrap();
    in_flight.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(
        in_flight,
        "PUT /v1/articles/explore-micro-needling-for-flawless-skin-today/sections/overview HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {token}\r\nIf-Match: *\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    write!(in_flight, "{rest}").unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight request was answered: {answer:?}"
    );
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let pid_file = data_dir.join("postgres/postmaster.pid");
    assert!(
        data_dir.join("postgres/PG_VERSION").exists(),
        "the cluster lives under LAMINA_DATA_DIR"
    );
    assert!(
        !pid_file.exists(),
        "{} remains: the cluster was not stopped",
        pid_file.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn token_commands_print_the_secret_once_and_never_again() {
    use crate::common::{SEED, TestApp, bearer, send};
    let app = TestApp::new().await;
    let lamina = env!("CARGO_BIN_EXE_lamina");
    let run = |args: &[&str]| {
        Command::new(lamina)
            .args(args)
            .env("DATABASE_URL", &app.db.url)
            .env("RUST_LOG", "info")
            .output()
            .unwrap()
    };

    let created = run(&["token", "create", "--name", "alice", "--role", "editor"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8(created.stdout).unwrap();
    let secret = stdout.trim_end_matches('\n');
    assert!(
        !secret.contains('\n') && secret.starts_with("lamina_"),
        "the secret alone on stdout: {stdout:?}"
    );
    let log = String::from_utf8_lossy(&created.stderr);
    assert!(!log.contains(&secret[7..]), "the secret is not logged: {log}");

    let again = run(&["token", "create", "--name", "alice", "--role", "editor"]);
    assert!(!again.status.success(), "names are unique");
    let bad_role = run(&["token", "create", "--name", "bob", "--role", "root"]);
    assert!(!bad_role.status.success());

    let listed = run(&["token", "list"]);
    let table = String::from_utf8(listed.stdout).unwrap();
    assert!(
        table.contains("alice") && table.contains("editor") && table.contains("active"),
        "{table}"
    );
    assert!(!table.contains(&secret[7..]), "list never shows secrets: {table}");

    let service = app.service().await;
    let reply = crate::common::get_as(&service, SEED, secret).await;
    reply.assert_status(200);

    assert!(run(&["token", "revoke", "alice"]).status.success());
    assert!(
        !run(&["token", "revoke", "alice"]).status.success(),
        "revoking twice is an error"
    );
    let reply = crate::common::get_as(&service, SEED, secret).await;
    reply.assert_problem(401, "unauthorized");
    assert!(
        String::from_utf8(run(&["token", "list"]).stdout)
            .unwrap()
            .contains("revoked")
    );

    // A revoked token's name can be used again; the old secret stays revoked.
    let renewed = run(&["token", "create", "--name", "alice", "--role", "editor"]);
    assert!(renewed.status.success(), "{}", String::from_utf8_lossy(&renewed.stderr));
    let renewed = String::from_utf8(renewed.stdout).unwrap().trim().to_owned();
    let read = |secret: &str| {
        send(
            &service,
            actix_web::test::TestRequest::get()
                .uri(SEED)
                .insert_header(bearer(secret)),
        )
    };
    assert_eq!(read(&renewed).await.status, 200);
    read(secret).await.assert_problem(401, "unauthorized");
    let create_expiring = |name: &str, days: &str| {
        run(&[
            "token",
            "create",
            "--name",
            name,
            "--role",
            "editor",
            "--expires-in-days",
            days,
        ])
    };
    // A token that would be born expired is refused.
    let expired = create_expiring("carol", "0");
    assert!(!expired.status.success());
    // An absurd lifetime (it overflowed the date and panicked) is refused with
    // a clear message; ten years is the most (issue 24.14).
    let absurd = create_expiring("dave", "96000000");
    let stderr = String::from_utf8_lossy(&absurd.stderr);
    assert_eq!(absurd.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("1..=3650") && !stderr.contains("panicked"), "{stderr}");
    let longest = create_expiring("dave", "3650");
    assert!(longest.status.success(), "{}", String::from_utf8_lossy(&longest.stderr));
}

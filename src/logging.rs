//! Log output: env_logger lines gathered in memory and written to standard
//! error by a background thread every few milliseconds, so a request never
//! waits for a terminal or a pipe (one line per request would otherwise cost
//! a system call and a thread wake-up on the request path).

use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

/// How long a line may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Past this many buffered bytes, the thread that logs writes them out itself.
const MAX_BUFFERED: usize = 1 << 20;

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Writes out everything buffered so far.
pub fn flush() {
    let pending = match BUFFER.lock() {
        Ok(mut buffer) => std::mem::take(&mut *buffer),
        Err(_) => return,
    };
    if !pending.is_empty() {
        let _ = std::io::stderr().write_all(&pending);
    }
}

/// The writer handed to env_logger.
struct Buffered;

impl Write for Buffered {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let overflowing = match BUFFER.lock() {
            Ok(mut buffer) => {
                buffer.extend_from_slice(line);
                buffer.len() > MAX_BUFFERED
            }
            Err(_) => return std::io::stderr().write(line),
        };
        if overflowing {
            flush();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sets up env_logger (`RUST_LOG`, default `info`) writing through the buffer.
pub fn init() {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    let spawned = std::thread::Builder::new().name("lamina-log".into()).spawn(|| {
        loop {
            std::thread::sleep(FLUSH_EVERY);
            flush();
        }
    });
    if spawned.is_ok() {
        builder.target(env_logger::Target::Pipe(Box::new(Buffered)));
    }
    builder.write_style(env_logger::WriteStyle::Never).init();
}

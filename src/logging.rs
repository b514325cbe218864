//! Log output: env_logger lines gathered in memory and written to standard
//! error by a background thread every few milliseconds, so a request never
//! waits for a terminal or a pipe (one line per request would otherwise cost
//! a system call and a thread wake-up on the request path).
//!
//! Only that thread writes. A buffer holds at most [`MAX_BUFFERED`] bytes:
//! when standard error stalls (a pipe nobody reads), the thread blocks, the
//! buffer fills, and further lines are dropped and counted ([`dropped`],
//! `lamina_log_lines_dropped_total`) instead of blocking the requests that
//! log them.
//!
//! Access lines ([`access`]) skip env_logger's formatting: they are written
//! in the same layout, with a timestamp made once a second per thread, into
//! a buffer of the thread's own (taken by the writing thread with the
//! others), so that workers on different cores do not take turns at one lock
//! and one buffer for every request. Lines of different threads may so
//! leave in another order than they were logged, within [`FLUSH_EVERY`].

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a line may wait before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The most bytes waiting to be written; past it, lines are dropped.
const MAX_BUFFERED: usize = 1 << 20;
/// The longest the last flush at exit waits for a stalled standard error.
const EXIT_FLUSH_WAIT: Duration = Duration::from_secs(1);

static BUFFER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// The buffers of access lines, one a thread that logged any.
static OWN_BUFFERS: Mutex<Vec<OwnBuffer>> = Mutex::new(Vec::new());

/// A thread's buffer of access lines.
type OwnBuffer = std::sync::Arc<Mutex<Vec<u8>>>;

thread_local! {
    /// This thread's buffer of access lines (known to the writing thread).
    static OWN_BUFFER: OwnBuffer = {
        let own = OwnBuffer::default();
        if let Ok(mut all) = OWN_BUFFERS.lock() {
            all.push(own.clone());
        }
        own
    };
}
/// Lines dropped because the buffer was full.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Whether env_logger writes through [`BUFFER`] (set by [`init`]).
static BUFFERED: AtomicBool = AtomicBool::new(false);

/// The target of access log lines (one per request, at `info`).
pub const ACCESS_TARGET: &str = "lamina::access";

/// How many log lines have been dropped because standard error did not keep up.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Writes out everything buffered so far (blocking while standard error does).
fn write_out() {
    let mut pending = match BUFFER.lock() {
        Ok(mut buffer) => std::mem::take(&mut *buffer),
        Err(_) => return,
    };
    if let Ok(mut all) = OWN_BUFFERS.lock() {
        for own in all.iter() {
            if let Ok(mut buffer) = own.lock() {
                pending.append(&mut buffer);
            }
        }
        // The buffers of threads that ended, now written.
        all.retain(|own| std::sync::Arc::strong_count(own) > 1);
    }
    if !pending.is_empty() {
        let _ = std::io::stderr().write_all(&pending);
    }
}

/// Appends `line` to `buffer` unless it is full (then the line is dropped and counted).
fn append(buffer: &Mutex<Vec<u8>>, line: &[u8]) {
    let taken = match buffer.lock() {
        Ok(mut buffer) if buffer.len() + line.len() <= MAX_BUFFERED => {
            buffer.extend_from_slice(line);
            true
        }
        _ => false,
    };
    if !taken {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Writes out everything buffered so far, at exit: waits at most
/// [`EXIT_FLUSH_WAIT`] for a standard error that does not take it.
pub fn flush() {
    let (done, finished) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("lamina-log-exit".into())
        .spawn(move || {
            write_out();
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = finished.recv_timeout(EXIT_FLUSH_WAIT);
    }
}

/// The writer handed to env_logger.
struct Buffered;

impl Write for Buffered {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        append(&BUFFER, line);
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
            write_out();
        }
    });
    if spawned.is_ok() {
        builder.target(env_logger::Target::Pipe(Box::new(Buffered)));
    }
    builder.write_style(env_logger::WriteStyle::Never).init();
    BUFFERED.store(spawned.is_ok(), Ordering::Release);
}

/// Whether access lines are logged (`RUST_LOG` lets `lamina::access` through at `info`).
pub fn access_enabled() -> bool {
    log::log_enabled!(target: ACCESS_TARGET, log::Level::Info)
}

thread_local! {
    /// This thread's line being built, and the second and text of its last timestamp.
    static LINE: RefCell<(String, u64, String)> = const { RefCell::new((String::new(), u64::MAX, String::new())) };
}

/// Logs an access line as env_logger would (`[<time> INFO  lamina::access] <line>`),
/// without its formatting machinery: `write` appends the line's text, then
/// it goes to the buffer in one append. Call only when [`access_enabled`].
pub fn access(write: impl FnOnce(&mut String)) {
    LINE.with(|line| {
        let Ok(mut line) = line.try_borrow_mut() else {
            let mut text = String::new();
            write(&mut text);
            log::info!(target: ACCESS_TARGET, "{text}");
            return;
        };
        let (text, second, stamp) = &mut *line;
        text.clear();
        if !BUFFERED.load(Ordering::Acquire) {
            write(text);
            log::info!(target: ACCESS_TARGET, "{text}");
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if now != *second {
            *second = now;
            stamp.clear();
            let at = i64::try_from(now)
                .ok()
                .and_then(|now| chrono::DateTime::from_timestamp(now, 0))
                .unwrap_or_default();
            let _ = write!(stamp, "[{} INFO  {ACCESS_TARGET}] ", at.format("%Y-%m-%dT%H:%M:%SZ"));
        }
        text.push_str(stamp);
        write(text);
        text.push('\n');
        if OWN_BUFFER.try_with(|own| append(own, text.as_bytes())).is_err() {
            append(&BUFFER, text.as_bytes());
        }
        // Keep the buffer from growing without bound after an odd long line.
        if text.capacity() > 4096 {
            *text = String::new();
        }
    });
}

/// Appends `n` in decimal (itoa: no formatting machinery, no UTF-8 check).
pub fn push_decimal(text: &mut String, n: u64) {
    text.push_str(itoa::Buffer::new().format(n));
}

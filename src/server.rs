//! The HTTP/1.1 server around [`build_app`](crate::build_app): actix-server
//! workers and actix-http's dispatcher, with two things `HttpServer` cannot do:
//!
//! - the answers the dispatcher writes by itself (bad framing 400, request
//!   head too large 431, request head too slow 408) are rewritten into
//!   problem+json on their way to the socket ([`ProblemIo`]);
//! - a malformed chunked body ends the stream before it ([`crate::framing`]),
//!   so the request is answered 400 instead of the connection dropped;
//! - `Expect: 100-continue` is answered only after the token is checked
//!   ([`check_expectation`]), so a client that may not write is refused before
//!   it uploads its body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_http::body::BoxBody;
use actix_http::{HttpService, KeepAlive, Request, Response, StatusCode};
use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::http::{Method, header};
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::AppState;
use crate::auth::{self, Reader, Role};
use crate::config::Config;
use crate::error::{AppError, Code, PROBLEM_JSON, Problem};
use crate::request_id;

/// After a stop signal, in-flight requests have this long to finish.
const SHUTDOWN_TIMEOUT_SECONDS: u64 = 10;
/// An idle keep-alive connection is closed after this long.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// After lamina closes a connection, the client has this long to read the answer.
const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Pending connections the kernel queues for accepting.
const BACKLOG: u32 = 1024;

/// Serves `build_app(state)` on `config.bind` until SIGTERM or Ctrl-C, then
/// stops accepting and lets in-flight requests finish (up to 10 s).
pub async fn run(state: AppState, config: &Config) -> io::Result<()> {
    // The studio's compressed assets are made once, off the request path.
    std::thread::spawn(crate::studio::prepare);
    let mut builder = actix_server::Server::build()
        .backlog(BACKLOG)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECONDS);
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get))
        .clamp(1, 512);
    builder = builder.workers(workers);
    // actix-server bounds connections per worker: share the process's bound out.
    let max_connections = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
    builder = builder.max_concurrent_connections(max_connections.div_ceil(workers));
    let shutdown = builder.graceful_shutdown_signal();
    let head_timeout = Duration::from_millis(config.client_header_timeout_ms);
    let request_time = Duration::from_secs(config.body_timeout_secs) + crate::db::DEADLINE + REQUEST_DEADLINE_MARGIN;
    let bind = config.bind;
    let factory = move || {
        let shutdown = shutdown.clone();
        let expect_state = state.clone();
        let app = crate::build_app(state.clone()).into_factory();
        let http = HttpService::build()
            .keep_alive(KeepAlive::Timeout(KEEP_ALIVE))
            .client_request_timeout(head_timeout)
            .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
            .local_addr(bind)
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .expect(fn_service(move |req: Request| {
                check_expectation(expect_state.clone(), req)
            }))
            // `AppConfig::new` is private; its host is only a fallback for a
            // request without `Host`, which lamina does not use.
            .h1(map_config(app, |()| AppConfig::default()));
        // As actix-http's own `tcp()`: the peer address goes along, for
        // `req.peer_addr()` (rate limits, logs).
        fn_service(move |stream: TcpStream| async move {
            let peer = stream.peer_addr().ok();
            // Answers are written whole or streamed in chunks (a compressed
            // one): without TCP_NODELAY the last small segment waited for the
            // client's delayed ACK, 40 ms on Linux.
            if let Err(err) = stream.set_nodelay(true) {
                log::debug!("TCP_NODELAY not set: {err}");
            }
            Ok::<_, ()>((ProblemIo::new(stream, request_time), peer))
        })
        .and_then(http.map_err(|err| log::debug!("connection ended: {err:?}")))
    };
    let server = builder
        .bind("lamina", bind, factory)
        .map_err(|err| io::Error::new(err.kind(), format!("cannot listen on {bind}: {err}")))?;
    log::info!("listening on http://{bind} (docs: http://{bind}/docs/)");
    server.run().await
}

/// The expect service: answers `100 Continue` (by returning the request) only
/// to a client allowed to go on. Writes need an editor or admin token; any
/// request with a bad token is refused at once.
async fn check_expectation(state: AppState, req: Request) -> Result<Request, Refusal> {
    let head = req.head();
    let address = state
        .limits
        .client_address(head.peer_addr.map(|address| address.ip()), &head.headers);
    let refuse = |error: AppError| {
        let given = head
            .headers
            .get(request_id::HEADER)
            .and_then(|value| value.to_str().ok());
        let request_id = given
            .filter(|id| request_id::acceptable(id))
            .map_or_else(request_id::generate, str::to_owned);
        log::info!(
            "refused Expect: 100-continue for {} {} ({error}; request {request_id})",
            head.method,
            head.uri.path()
        );
        Refusal { error, request_id }
    };
    let reader = auth::authenticate_header(&state, head.headers.get(header::AUTHORIZATION), address)
        .await
        .map_err(refuse)?;
    let writes = matches!(head.method, Method::PUT | Method::POST | Method::DELETE | Method::PATCH);
    match reader {
        Reader::Anonymous if writes => Err(refuse(AppError::Unauthorized {
            detail: "This needs an editor token: `Authorization: Bearer <token>`.".to_owned(),
        })),
        Reader::Token {
            role: Role::Preview,
            name,
        } if writes => Err(refuse(AppError::Forbidden {
            detail: format!("The token {name:?} has the preview role; this needs editor or admin."),
        })),
        _ => Ok(req),
    }
}

/// Why a request expecting `100 Continue` gets its final answer at once.
#[derive(Debug)]
struct Refusal {
    error: AppError,
    request_id: String,
}

impl From<Refusal> for Response<BoxBody> {
    fn from(refusal: Refusal) -> Response<BoxBody> {
        if let AppError::Unavailable(cause) | AppError::Internal(cause) = &refusal.error {
            log::warn!("checking a token before 100 Continue failed: {cause}");
        }
        let mut response = refusal.error.to_response(Some(&refusal.request_id));
        if let Ok(value) = header::HeaderValue::from_str(&refusal.request_id) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static(request_id::HEADER), value);
        }
        response.into()
    }
}

/// The problem answering a response head that actix-http's dispatcher wrote by
/// itself, known by its status; `None` for any other status.
fn dispatcher_problem(status: u16) -> Option<Problem> {
    let (code, detail) = match status {
        400 => (
            Code::BadRequestFraming,
            "The request is not well-formed HTTP/1.1 (request line, header syntax, Content-Length or \
             Transfer-Encoding); the connection is closed.",
        ),
        408 => (
            Code::RequestTimeout,
            "The request head did not arrive in time; the connection is closed.",
        ),
        413 => (
            Code::PayloadTooLarge,
            "The request is larger than allowed; the connection is closed.",
        ),
        431 => (
            Code::RequestHeaderTooLarge,
            "The request head is larger than 128 KiB or has more than 96 header fields; the connection is \
             closed.",
        ),
        500 => (
            Code::InternalError,
            "The server could not read the request; the connection is closed.",
        ),
        _ => return None,
    };
    let status = StatusCode::from_u16(status).ok()?;
    Some(Problem {
        problem_type: format!("urn:lamina:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code,
        errors: None,
        errors_total: None,
        conflicts: None,
        current_etag: None,
        current_version: None,
        request_id: None,
    })
}

/// Every response head ends with the `date` header actix-http writes last
/// (`date: Wed, 25 Nov 2026 12:00:00 GMT`, always 29 characters of value)
/// and the blank line: 39 bytes.
const DATE_TAIL: usize = "date: Wed, 25 Nov 2026 12:00:00 GMT\r\n\r\n".len();
/// The longest response head of the dispatcher's own (status line,
/// `content-length: 0`, `connection`, `date`), with room to spare.
const OWN_HEAD_MAX: usize = 160;

/// Whether `written` may end with a head the dispatcher wrote by itself: it
/// ends with the `date` line, and the line before is one actix-http writes
/// (`content-length: 0` or `connection`), not one of lamina's headers. Two
/// or three short comparisons: every write pays for this.
fn may_end_with_own_head(written: &[u8]) -> bool {
    let Some(split) = written.len().checked_sub(DATE_TAIL) else {
        return false;
    };
    let (before, tail) = written.split_at(split);
    tail.starts_with(b"date: ")
        && tail.ends_with(b" GMT\r\n\r\n")
        && [
            &b"\r\ncontent-length: 0\r\n"[..],
            b"\r\nconnection: close\r\n",
            b"\r\nconnection: keep-alive\r\n",
        ]
        .iter()
        .any(|line| before.ends_with(line))
}

/// If `written` ends with a response head the dispatcher wrote by itself (an
/// error status, `content-length: 0`, no `content-type`: lamina's own
/// responses always have one), the bytes to send instead: everything before
/// it, then the same status with a problem+json body.
fn rewrite_own_error(written: &[u8]) -> Option<Vec<u8>> {
    if !may_end_with_own_head(written) {
        return None;
    }
    let window_start = written.len().saturating_sub(OWN_HEAD_MAX);
    let head_start = window_start + find_last(&written[window_start..], b"HTTP/1.")?;
    let head = std::str::from_utf8(&written[head_start..]).ok()?;
    let mut lines = head.strip_suffix("\r\n\r\n")?.split("\r\n");
    let status_line = lines.next()?;
    let (version, rest) = status_line.split_once(' ')?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    let mut zero_length = false;
    let mut date = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") && value == "0" {
            zero_length = true;
        } else if name.eq_ignore_ascii_case("date") {
            date = Some(value);
        } else if !name.eq_ignore_ascii_case("connection") {
            return None;
        }
    }
    if !zero_length {
        return None;
    }
    let problem = dispatcher_problem(status)?;
    log::debug!(
        "the HTTP layer answered {status} ({}); sent as problem+json",
        problem.code
    );
    let body = serde_json::to_vec(&problem).ok()?;
    let mut replacement = Vec::with_capacity(head_start + 256 + body.len());
    replacement.extend_from_slice(&written[..head_start]);
    replacement.extend_from_slice(
        format!(
            "{version} {status_line_rest}\r\ncontent-type: {PROBLEM_JSON}\r\ncache-control: no-store\r\n\
             content-length: {}\r\nconnection: close\r\n",
            body.len(),
            status_line_rest = rest,
        )
        .as_bytes(),
    );
    if let Some(date) = date {
        replacement.extend_from_slice(format!("date: {date}\r\n").as_bytes());
    }
    replacement.extend_from_slice(b"\r\n");
    replacement.extend_from_slice(&body);
    Some(replacement)
}

/// Where `needle` last occurs in `haystack`.
fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|window| window == needle)
}

/// A connection whose writes pass straight through, except a response head
/// the dispatcher wrote by itself, which goes out as problem+json instead
/// (see [`rewrite_own_error`]). Such a head is always the last thing the
/// dispatcher writes on a connection, and arrives whole in one write.
pub struct ProblemIo<T> {
    inner: T,
    /// Rewritten bytes not yet sent, and how many of them have been.
    pending: Vec<u8>,
    sent: usize,
    /// Set when a request's first bytes arrive, cleared when its response
    /// starts: a request (head, body and handling) must be answered within
    /// `request_time`. actix-http times only a connection's first head, so
    /// without this a client could trickle a second request forever.
    request_due: Option<tokio::time::Instant>,
    /// The connection's one timer for [`Self::request_due`], made at its
    /// first request and never due later than the current request's
    /// deadline: when it fires early (it was set for an earlier request) it
    /// is moved to the current deadline. So a keep-alive connection does
    /// not register and cancel a timer per request, only about once per
    /// `request_time`.
    request_timer: Option<Pin<Box<tokio::time::Sleep>>>,
    request_time: Duration,
    /// Set while a write is blocked (the client does not read): it must
    /// progress within [`WRITE_STALL`].
    write_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The requests' framing, to end the stream at a malformed chunked body.
    framing: crate::framing::Framing,
}

/// How much longer than its body timeout and the database deadline a request
/// may take from its first byte to its response.
const REQUEST_DEADLINE_MARGIN: Duration = Duration::from_secs(5);
/// The longest a response may wait for a client that does not read it.
pub const WRITE_STALL: Duration = Duration::from_secs(30);

impl<T> ProblemIo<T> {
    /// Wraps `inner`, whose requests must each be answered within `request_time`.
    pub fn new(inner: T, request_time: Duration) -> ProblemIo<T> {
        ProblemIo {
            inner,
            pending: Vec::new(),
            sent: 0,
            request_due: None,
            request_timer: None,
            request_time,
            write_deadline: None,
            framing: crate::framing::Framing::default(),
        }
    }
}

/// A blocked write (the client does not read) starts `deadline`; past
/// [`WRITE_STALL`] it is `TimedOut`; progress clears it.
fn watch_stall<R>(
    deadline: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
    outcome: Poll<io::Result<R>>,
) -> Poll<io::Result<R>> {
    if outcome.is_pending() {
        let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_STALL)));
        if sleep.as_mut().poll(cx).is_ready() {
            log::debug!("closing a connection: the client does not read its response");
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client does not read")));
        }
    } else {
        *deadline = None;
    }
    outcome
}

/// `TimedOut` once `due` has passed; until then `timer` (due no later than
/// `due`) is kept registered with the waker, and moved to `due` when it
/// fires early.
fn expired(
    due: Option<tokio::time::Instant>,
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
    what: &str,
) -> io::Result<()> {
    let (Some(due), Some(timer)) = (due, timer.as_mut()) else {
        return Ok(());
    };
    if timer.as_mut().poll(cx).is_pending() {
        return Ok(());
    }
    if tokio::time::Instant::now() < due {
        // Set for an earlier request: wait on for this one.
        timer.as_mut().reset(due);
        let _ = timer.as_mut().poll(cx);
        return Ok(());
    }
    log::debug!("closing a connection: {what}");
    Err(io::Error::new(io::ErrorKind::TimedOut, what.to_owned()))
}

/// Starts the deadline of a request whose first bytes just arrived: `due`
/// from now, on the connection's `timer` (made now if it has none; moved
/// only if it is not still set for an earlier, sooner deadline).
fn start_deadline(
    request_time: Duration,
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    cx: &mut Context<'_>,
) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    // Far in the future (30 years) for a request time that overflows.
    let due = now
        .checked_add(request_time)
        .unwrap_or_else(|| now + Duration::from_secs(86400 * 365 * 30));
    match timer {
        Some(timer) if !timer.is_elapsed() => {}
        Some(timer) => {
            timer.as_mut().reset(due);
            // Registers the waker, so an idle trickle is still cut off.
            let _ = timer.as_mut().poll(cx);
        }
        None => {
            let mut made = Box::pin(tokio::time::sleep_until(due));
            let _ = made.as_mut().poll(cx);
            *timer = Some(made);
        }
    }
    due
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Sends what is pending; ready when nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        if !self.pending.is_empty() {
            self.pending = Vec::new();
            self.sent = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        expired(
            this.request_due,
            &mut this.request_timer,
            cx,
            "a request was not answered in time",
        )?;
        if this.framing.broken() {
            // The end of the stream: actix-http answers the request with a
            // body that ended early instead of dropping the connection.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if read.is_ready()
            && let Some(at) = this.framing.feed(&buf.filled()[before..])
        {
            log::debug!("a malformed chunked body: the request's stream ends before it");
            buf.set_filled(before + at);
        }
        if buf.filled().len() > before && this.request_due.is_none() {
            this.request_due = Some(start_deadline(this.request_time, &mut this.request_timer, cx));
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // A response is under way: its request is answered.
        this.request_due = None;
        let written = this.poll_write_inner(cx, buf);
        watch_stall(&mut this.write_deadline, cx, written)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let flushed = this.poll_flush_inner(cx);
        watch_stall(&mut this.write_deadline, cx, flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    fn poll_flush_inner(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_write_inner(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self;
        ready!(this.poll_pending(cx))?;
        let Some(replacement) = rewrite_own_error(buf) else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        this.pending = replacement;
        // The bytes are taken: what is not sent now goes out on flush or shutdown.
        if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(buf.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite_own_error;

    const DATE: &str = "date: Wed, 25 Nov 2026 12:00:00 GMT\r\n\r\n";

    fn rewritten(head: &str) -> Option<String> {
        rewrite_own_error(head.as_bytes()).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn the_dispatchers_own_errors_become_problems() {
        let text = rewritten(&format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n{DATE}")).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n"));
        assert!(text.contains("\r\nconnection: close\r\n"));
        assert!(text.contains("\r\ndate: Wed, 25 Nov 2026 12:00:00 GMT\r\n\r\n{"));
        assert!(text.contains("\"code\":\"bad_request_framing\""));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));

        let timeout = format!("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n{DATE}");
        assert!(rewritten(&timeout).unwrap().contains("\"code\":\"request_timeout\""));
    }

    #[test]
    fn what_precedes_the_head_is_kept() {
        let earlier = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}";
        let text = rewritten(&format!(
            "{earlier}HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n{DATE}"
        ))
        .unwrap();
        assert!(text.starts_with(&format!("{earlier}HTTP/1.1 431 ")));
        assert!(text.contains("\"code\":\"request_header_too_large\""));
    }

    #[test]
    fn other_responses_pass_untouched() {
        for head in [
            // lamina's own answers have a content type
            format!("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\n{DATE}"),
            format!("HTTP/1.1 304 Not Modified\r\netag: \"a\"\r\n{DATE}"),
            format!("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n{DATE}"),
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello".to_owned(),
        ] {
            assert_eq!(rewritten(&head), None, "{head}");
        }
    }
}

//! Follows the framing of the requests a connection sends, to stop reading at
//! a malformed chunked body.
//!
//! actix-http treats a bad chunk (a size that is no hex number, a missing
//! CRLF, an overflowing size) as an I/O error and drops the connection: no
//! answer, no access line, the handler cancelled. [`Framing`] mirrors its
//! chunked decoder, byte for byte, so that [`ProblemIo`](crate::server::ProblemIo)
//! can end the stream just before the offending byte: actix-http then sees a
//! body that ended early, the handler reading it answers 400 problem+json
//! (`unreadable_body`) and the access log records it.
//!
//! Anything this does not follow exactly (an upgrade, `CONNECT`, HTTP/1.0, a
//! bare LF, framing actix-http refuses anyway) turns it off for the rest of
//! the connection: it then never stops a stream.

/// How much of each head line is kept: enough for the name and value of the
/// framing headers; a longer framing header turns following off.
const LINE_KEEP: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    SizeFirst,
    SizeRest,
    SizeLws,
    Extension,
    SizeLf,
    Body,
    BodyCr,
    BodyLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In a request head.
    Head,
    /// In a body of this many bytes still to come.
    Length(u64),
    /// In a chunked body.
    Chunked(Chunk),
    /// Not followed any more.
    Off,
    /// A malformed chunk was found: nothing more is read.
    Broken,
}

/// What one request head says about its body.
#[derive(Debug, Default)]
struct Head {
    /// The request line has been read.
    started: bool,
    /// The head is one this does not follow.
    unfollowed: bool,
    chunked: bool,
    transfer_encodings: u8,
    content_length: Option<u64>,
    bytes: usize,
}

/// The framing of one connection's requests, as actix-http decodes it.
#[derive(Debug)]
pub struct Framing {
    state: State,
    head: Head,
    /// The current head line (its first [`LINE_KEEP`] bytes) and its length.
    line: [u8; LINE_KEEP],
    line_len: usize,
    /// The size of the current chunk, or what is left of it.
    size: u64,
    /// The last 16 bytes of the head, the latest lowest.
    recent: u128,
}

impl Default for Framing {
    fn default() -> Framing {
        Framing {
            state: State::Head,
            head: Head::default(),
            line: [0; LINE_KEEP],
            line_len: 0,
            size: 0,
            recent: 0,
        }
    }
}

/// The most bytes a head may have and still be followed (actix-http refuses larger ones).
const HEAD_MAX: usize = 256 * 1024;

impl Framing {
    /// Whether a malformed chunk has been found: the stream must end.
    pub fn broken(&self) -> bool {
        self.state == State::Broken
    }

    /// Follows `bytes`, read from the client. `Some(n)`: `bytes[n]` is the
    /// first byte of a malformed chunked body; only `bytes[..n]` may be passed on.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut at = 0;
        while at < bytes.len() {
            match self.state {
                State::Off => return None,
                State::Broken => return Some(at),
                State::Length(left) => {
                    let take = left.min((bytes.len() - at) as u64);
                    at += take as usize;
                    self.state = if left == take {
                        State::Head
                    } else {
                        State::Length(left - take)
                    };
                }
                State::Chunked(Chunk::Body) => {
                    let take = self.size.min((bytes.len() - at) as u64);
                    at += take as usize;
                    self.size -= take;
                    if self.size == 0 {
                        self.state = State::Chunked(Chunk::BodyCr);
                    }
                }
                State::Head => {
                    // The bytes of a line up to its end in bulk, the end byte by byte.
                    let rest = &bytes[at..];
                    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    if end > 0 {
                        self.head_run(&rest[..end]);
                        at += end;
                    } else {
                        self.head_byte(bytes[at]);
                        at += 1;
                    }
                }
                State::Chunked(chunk) => match self.chunk_byte(chunk, bytes[at]) {
                    Some(next) => {
                        self.state = next;
                        at += 1;
                    }
                    None => {
                        self.state = State::Broken;
                        return Some(at);
                    }
                },
            }
        }
        None
    }

    /// One byte of a chunked body outside chunk data: the next state, or
    /// `None` where actix-http's decoder fails.
    fn chunk_byte(&mut self, chunk: Chunk, byte: u8) -> Option<State> {
        let hex = |byte: u8| (byte as char).to_digit(16).map(u64::from);
        let next = match chunk {
            Chunk::SizeFirst => {
                self.size = hex(byte)?;
                Chunk::SizeRest
            }
            Chunk::SizeRest => match byte {
                b'\t' | b' ' => Chunk::SizeLws,
                b';' => Chunk::Extension,
                b'\r' => Chunk::SizeLf,
                _ => {
                    self.size = self.size.checked_mul(16)?.checked_add(hex(byte)?)?;
                    Chunk::SizeRest
                }
            },
            Chunk::SizeLws => match byte {
                b'\t' | b' ' => Chunk::SizeLws,
                b';' => Chunk::Extension,
                b'\r' => Chunk::SizeLf,
                _ => return None,
            },
            Chunk::Extension => match byte {
                b'\r' => Chunk::SizeLf,
                0x00..=0x08 | 0x0a..=0x1f | 0x7f => return None,
                _ => Chunk::Extension,
            },
            Chunk::SizeLf => match byte {
                b'\n' if self.size > 0 => Chunk::Body,
                b'\n' => Chunk::EndCr,
                _ => return None,
            },
            Chunk::Body => Chunk::Body,
            Chunk::BodyCr => (byte == b'\r').then_some(Chunk::BodyLf)?,
            Chunk::BodyLf => (byte == b'\n').then_some(Chunk::SizeFirst)?,
            Chunk::Trailer if byte == b'\r' => Chunk::TrailerLf,
            Chunk::EndCr if byte == b'\r' => Chunk::EndLf,
            Chunk::Trailer | Chunk::EndCr => Chunk::Trailer,
            Chunk::TrailerLf => (byte == b'\n').then_some(Chunk::EndCr)?,
            Chunk::EndLf => {
                if byte != b'\n' {
                    return None;
                }
                self.head = Head::default();
                return Some(State::Head);
            }
        };
        Some(State::Chunked(next))
    }

    /// Bytes of a request head with no line end among them: what
    /// [`head_byte`](Self::head_byte) does for each, at once.
    fn head_run(&mut self, run: &[u8]) {
        if self.head.bytes + run.len() > HEAD_MAX {
            self.state = State::Off;
            return;
        }
        self.head.bytes += run.len();
        for &byte in &run[run.len().saturating_sub(16)..] {
            self.recent = (self.recent << 8) | u128::from(byte);
        }
        if self.line_len < LINE_KEEP {
            let keep = (LINE_KEEP - self.line_len).min(run.len());
            self.line[self.line_len..self.line_len + keep].copy_from_slice(&run[..keep]);
        }
        self.line_len += run.len();
    }

    /// One byte of a request head.
    fn head_byte(&mut self, byte: u8) {
        self.head.bytes += 1;
        self.recent = (self.recent << 8) | u128::from(byte);
        if self.head.bytes > HEAD_MAX {
            self.state = State::Off;
            return;
        }
        if byte != b'\n' {
            if self.line_len < LINE_KEEP {
                self.line[self.line_len] = byte;
            }
            self.line_len += 1;
            return;
        }
        let length = std::mem::take(&mut self.line_len);
        let before = self.recent >> 8;
        // Only CRLF line ends are followed, and no folded lines.
        if length == 0 || before & 0xff != u128::from(b'\r') || matches!(self.line[0], b' ' | b'\t') {
            self.state = State::Off;
            return;
        }
        let line = self.line;
        let line = &line[..(length - 1).min(LINE_KEEP)];
        if !self.head.started {
            if line.is_empty() {
                // Empty lines before a request line are skipped.
                return;
            }
            self.head.started = true;
            const VERSION: &[u8] = b" HTTP/1.1\r";
            let tail = VERSION
                .iter()
                .fold(0u128, |packed, &byte| (packed << 8) | u128::from(byte));
            let mask = (1u128 << (8 * VERSION.len())) - 1;
            if line.starts_with(b"CONNECT ") || before & mask != tail {
                self.head.unfollowed = true;
            }
            return;
        }
        if line.is_empty() {
            self.end_head();
        } else if length > LINE_KEEP {
            if self.framing_line() {
                self.state = State::Off;
            }
        } else {
            self.header_line(line);
        }
    }

    /// Whether the current (long) line is a header that decides framing.
    fn framing_line(&self) -> bool {
        [&b"content-length"[..], b"transfer-encoding", b"upgrade"]
            .iter()
            .any(|name| self.line[..name.len()].eq_ignore_ascii_case(name))
    }

    fn header_line(&mut self, line: &[u8]) {
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            return;
        };
        // Compared without case and without a lowered copy, the value read
        // only for the framing headers (every header line of every request
        // comes here).
        let name = &line[..colon];
        let value = || std::str::from_utf8(&line[colon + 1..]).map(str::trim);
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.head.transfer_encodings += 1;
            match value() {
                Ok(value) if value.eq_ignore_ascii_case("chunked") => self.head.chunked = true,
                Ok(value) if value.eq_ignore_ascii_case("identity") => {}
                _ => self.head.unfollowed = true,
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let value = value();
            match value.ok().and_then(|value| value.parse::<u64>().ok()) {
                Some(length) if self.head.content_length.is_none() && !value.is_ok_and(|v| v.starts_with('+')) => {
                    self.head.content_length = Some(length)
                }
                _ => self.head.unfollowed = true,
            }
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.head.unfollowed = true;
        }
    }

    fn end_head(&mut self) {
        let head = std::mem::take(&mut self.head);
        self.recent = 0;
        self.state = if head.unfollowed || head.transfer_encodings > 1 || head.chunked && head.content_length.is_some()
        {
            State::Off
        } else if head.chunked {
            State::Chunked(Chunk::SizeFirst)
        } else if head.transfer_encodings > 0 {
            // `identity` alone: actix-http refuses it.
            State::Off
        } else {
            match head.content_length {
                Some(length) if length > 0 => State::Length(length),
                _ => State::Head,
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::Framing;

    fn stop(requests: &[&str]) -> Option<usize> {
        let mut framing = Framing::default();
        let mut offset = 0;
        for part in requests {
            if let Some(at) = framing.feed(part.as_bytes()) {
                return Some(offset + at);
            }
            offset += part.len();
        }
        None
    }

    const HEAD: &str = "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

    #[test]
    fn well_formed_requests_pass() {
        let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(300));
        let cases = [
            "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
            format!("{HEAD}5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            format!("{HEAD}5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n"),
            "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nzz\r\nzz\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
                .to_owned(),
            long_path,
        ];
        for case in cases {
            assert_eq!(stop(&[&case]), None, "{case:?}");
            // Byte by byte, as a trickling client sends it.
            let bytes: Vec<String> = case.chars().map(String::from).collect();
            let parts: Vec<&str> = bytes.iter().map(String::as_str).collect();
            assert_eq!(stop(&parts), None, "{case:?}");
        }
    }

    #[test]
    fn malformed_chunks_stop_at_the_offending_byte() {
        let at = |rest: &str| HEAD.len() + rest.len();
        assert_eq!(stop(&[&format!("{HEAD}zz\r\n")]), Some(at("")));
        assert_eq!(stop(&[HEAD, "5\r\n{\"kind\"\r\n"]), Some(at("5\r\n{\"kin")));
        assert_eq!(stop(&[HEAD, &"f".repeat(20)]), Some(at(&"f".repeat(16))));
        assert_eq!(
            stop(&[HEAD, "5\r\nhello\r\n0\r\n\rX"]),
            Some(at("5\r\nhello\r\n0\r\n\r"))
        );
        // A second request's body, after a well-formed first one.
        let first = "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(stop(&[first, HEAD, "1x\r\n"]), Some(first.len() + at("1")));
    }

    #[test]
    fn whole_and_byte_by_byte_agree() {
        let long_header = format!("X-Long: {}\r\n", "v".repeat(200));
        for case in [
            format!("{HEAD}zz\r\n"),
            format!("{HEAD}5\r\nhello\r\n0\r\n\rX"),
            format!("PUT /x HTTP/1.1\r\n{long_header}Transfer-Encoding: chunked\r\n\r\n1x\r\n"),
            format!("PUT /x HTTP/1.1\r\n{long_header}Content-Length: 2\r\n\r\n{{}}{HEAD}q\r\n"),
            "PUT /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_owned(),
        ] {
            let bytes: Vec<String> = case.chars().map(String::from).collect();
            let parts: Vec<&str> = bytes.iter().map(String::as_str).collect();
            assert_eq!(stop(&[&case]), stop(&parts), "{case:?}");
        }
    }

    #[test]
    fn framing_it_does_not_follow_turns_it_off() {
        for head in [
            "PUT /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "PUT /x HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n",
            "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            "CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(stop(&[head, "zz\r\n"]), None, "{head:?}");
        }
    }
}

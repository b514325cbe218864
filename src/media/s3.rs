//! The S3-compatible object store of `LAMINA_ASSET_STORE=s3://bucket/prefix`
//! (AWS S3, MinIO, Ceph, R2, moto…): requests signed by `rusty-s3` (AWS
//! Signature V4 in the query string) and sent by `ureq`, blocking, from the
//! blocking pool.
//!
//! Configured as the AWS tools are: the endpoint from
//! `LAMINA_ASSET_STORE_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else
//! `AWS_ENDPOINT_URL`, else AWS's own for the region (`AWS_REGION`, else
//! `AWS_DEFAULT_REGION`, else `us-east-1`); the credentials from
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`
//! (none: unsigned requests, for a public bucket). A named endpoint is
//! addressed path-style (`endpoint/bucket/key`), as S3-compatible servers
//! expect; AWS's own virtual-host style (`bucket.endpoint/key`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusty_s3::actions::S3Action;
use rusty_s3::{Bucket, Credentials, UrlStyle};

use super::listed::Listed;
use crate::config::parse_asset_store;

/// How long a signed request stays valid (it is sent at once).
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// Longest wait for a connection to the store.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a request to the store may take, body included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Most bytes read of one object: more than any upload or variant lamina
/// writes (it reads only what it wrote).
const MAX_OBJECT_BYTES: u64 = 1 << 30;

/// A bucket and a prefix in it, and how to reach them.
pub struct S3 {
    bucket: Bucket,
    credentials: Option<Credentials>,
    /// Every key starts with it: empty, or ending in `/`.
    prefix: String,
    agent: ureq::Agent,
    /// `s3://bucket/prefix at endpoint`, for logs and errors.
    name: String,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: only where the store is.
        f.debug_struct("S3").field("store", &self.name).finish_non_exhaustive()
    }
}

/// The error of a store that cannot be reached, or answers that it cannot
/// serve now (5xx, 429): the request may be tried again (503), unlike an
/// error of lamina's or of its settings.
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// Whether `err` says the store cannot be reached now (see [`Unreachable`]).
pub fn is_unreachable(err: &std::io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<Unreachable>())
}

/// The first of these environment variables that is set and not empty.
fn env_var(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
}

impl S3 {
    /// The store at `url` (`s3://bucket/prefix`), reached at `endpoint` or
    /// as the `AWS_*` environment variables say (see the module).
    pub fn from_env(url: &str, endpoint: Option<&str>) -> Result<S3, String> {
        let (bucket, prefix) = parse_asset_store(url)?;
        let region = env_var(&["AWS_REGION", "AWS_DEFAULT_REGION"]).unwrap_or_else(|| "us-east-1".to_owned());
        let named = endpoint
            .filter(|endpoint| !endpoint.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| env_var(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]));
        let (endpoint, style) = match named {
            Some(endpoint) => (endpoint, UrlStyle::Path),
            None => (format!("https://s3.{region}.amazonaws.com"), UrlStyle::VirtualHost),
        };
        let endpoint_url = endpoint
            .parse()
            .map_err(|err| format!("the asset store's endpoint {endpoint:?} is not a URL: {err}"))?;
        let name = format!("s3://{bucket}/{prefix} at {endpoint}");
        let bucket = Bucket::new(endpoint_url, style, bucket, region)
            .map_err(|err| format!("the asset store {name} cannot be used: {err}"))?;
        let credentials = match (env_var(&["AWS_ACCESS_KEY_ID"]), env_var(&["AWS_SECRET_ACCESS_KEY"])) {
            (Some(key), Some(secret)) => Some(match env_var(&["AWS_SESSION_TOKEN"]) {
                Some(token) => Credentials::new_with_token(key, secret, token),
                None => Credentials::new(key, secret),
            }),
            (None, None) => None,
            _ => return Err("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither".to_owned()),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build()
            .into();
        Ok(S3 {
            bucket,
            credentials,
            prefix,
            agent,
            name,
        })
    }

    /// `s3://bucket/prefix at endpoint`.
    pub fn describe(&self) -> String {
        self.name.clone()
    }

    /// The object key of the location `path`.
    fn key(&self, path: &Path) -> std::io::Result<String> {
        let relative = path
            .to_str()
            .ok_or_else(|| std::io::Error::other(format!("{} is not UTF-8", path.display())))?;
        Ok(format!("{}{relative}", self.prefix))
    }

    /// Sends `request`, as `what` (for errors), returning its response if
    /// the store answered at all; a store that did not, or said it cannot
    /// now (5xx, 429), is [`Unreachable`].
    fn send(
        &self,
        what: &str,
        request: impl FnOnce(&ureq::Agent) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> std::io::Result<ureq::http::Response<ureq::Body>> {
        let response = request(&self.agent)
            .map_err(|err| std::io::Error::other(Unreachable(format!("{what} in {}: {err}", self.name))))?;
        let status = response.status().as_u16();
        if status >= 500 || status == 429 {
            return Err(std::io::Error::other(Unreachable(format!(
                "{what} in {}: the store answered {status}",
                self.name
            ))));
        }
        Ok(response)
    }

    /// An error for an answer that was not expected.
    fn refused(&self, what: &str, mut response: ureq::http::Response<ureq::Body>) -> std::io::Error {
        let status = response.status().as_u16();
        let mut body = String::new();
        let _ = response.body_mut().as_reader().take(1024).read_to_string(&mut body);
        let code = body
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map_or("", |(code, _)| code);
        let kind = if status == 404 {
            std::io::ErrorKind::NotFound
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(
            kind,
            format!("{what} in {}: the store answered {status} {code}", self.name),
        )
    }

    /// Signs (`sign`, given the key) and sends (`send`, given the signed
    /// URL) a request about the object at `path`, which is `doing` to it;
    /// returns what it did (for errors) and the answer.
    fn on_object<Signed: AsRef<str>>(
        &self,
        path: &Path,
        doing: &str,
        sign: impl FnOnce(&S3, &str) -> Signed,
        send: impl FnOnce(&ureq::Agent, &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> std::io::Result<(String, ureq::http::Response<ureq::Body>)> {
        let key = self.key(path)?;
        let url = sign(self, &key);
        let what = format!("{doing} {key}");
        let response = self.send(&what, |agent| send(agent, url.as_ref()))?;
        Ok((what, response))
    }

    /// `response` if its status is one of `expected`, else an error.
    fn expect(
        &self,
        (what, response): (String, ureq::http::Response<ureq::Body>),
        expected: &[u16],
    ) -> std::io::Result<ureq::http::Response<ureq::Body>> {
        if expected.contains(&response.status().as_u16()) {
            Ok(response)
        } else {
            Err(self.refused(&what, response))
        }
    }

    /// The object at `path`.
    pub fn get(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let sign = |s3: &S3, key: &str| s3.bucket.get_object(s3.credentials.as_ref(), key).sign(SIGNED_FOR);
        let answer = self.on_object(path, "reading", sign, |agent, url| agent.get(url).call())?;
        let what = answer.0.clone();
        self.expect(answer, &[200])?
            .body_mut()
            .with_config()
            .limit(MAX_OBJECT_BYTES)
            .read_to_vec()
            .map_err(|err| std::io::Error::other(Unreachable(format!("{what} in {}: {err}", self.name))))
    }

    /// Whether there is an object at `path`.
    pub fn exists(&self, path: &Path) -> std::io::Result<bool> {
        let sign = |s3: &S3, key: &str| s3.bucket.head_object(s3.credentials.as_ref(), key).sign(SIGNED_FOR);
        let answer = self.on_object(path, "looking for", sign, |agent, url| agent.head(url).call())?;
        Ok(self.expect(answer, &[200, 404])?.status().as_u16() == 200)
    }

    /// Stores `bytes` at `path`, whole or not at all.
    pub fn put(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let sign = |s3: &S3, key: &str| s3.bucket.put_object(s3.credentials.as_ref(), key).sign(SIGNED_FOR);
        let answer = self.on_object(path, "writing", sign, |agent, url| agent.put(url).send(bytes))?;
        self.expect(answer, &[200, 201, 204]).map(drop)
    }

    /// Removes the object at `path` (one already gone is no error).
    pub fn delete(&self, path: &Path) -> std::io::Result<()> {
        let sign = |s3: &S3, key: &str| s3.bucket.delete_object(s3.credentials.as_ref(), key).sign(SIGNED_FOR);
        let answer = self.on_object(path, "removing", sign, |agent, url| agent.delete(url).call())?;
        self.expect(answer, &[200, 202, 204, 404]).map(drop)
    }

    /// Checks that the bucket answers a listing with these credentials,
    /// creating it first if it does not exist (and there are credentials to
    /// create it with). `Ok(true)` if it was created.
    pub fn check(&self) -> std::io::Result<bool> {
        let err = match self.list("", Some(1)) {
            Ok(_) => return Ok(false),
            Err(err) => err,
        };
        let Some(credentials) = self
            .credentials
            .as_ref()
            .filter(|_| err.to_string().contains("NoSuchBucket"))
        else {
            return Err(err);
        };
        let action = self.bucket.create_bucket(credentials);
        let (body, url) = (action.body(), action.sign(SIGNED_FOR));
        let what = format!("creating the bucket {}", self.bucket.name());
        let response = self.send(&what, |agent| agent.put(url.as_str()).send(body.as_bytes()))?;
        self.expect((what, response), &[200])?;
        self.list("", Some(1)).map(|_| true)
    }

    /// The objects whose location starts with `start` (at most `most`, or
    /// all of them, a page of 1,000 at a time).
    pub fn list(&self, start: &str, most: Option<usize>) -> std::io::Result<Vec<Listed>> {
        let start = format!("{}{start}", self.prefix);
        let what = format!("listing {start}");
        let mut found = Vec::new();
        let mut continuation: Option<String> = None;
        loop {
            let mut action = self.bucket.list_objects_v2(self.credentials.as_ref());
            action.with_prefix(start.as_str());
            if let Some(most) = most {
                action.with_max_keys(most);
            }
            if let Some(token) = &continuation {
                action.with_continuation_token(token.as_str());
            }
            let url = action.sign(SIGNED_FOR);
            let mut response = self.send(&what, |agent| agent.get(url.as_str()).call())?;
            if response.status().as_u16() != 200 {
                return Err(self.refused(&what, response));
            }
            let text = response
                .body_mut()
                .with_config()
                .limit(16 << 20)
                .read_to_string()
                .map_err(|err| std::io::Error::other(Unreachable(format!("{what} in {}: {err}", self.name))))?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&text)
                .map_err(|err| std::io::Error::other(format!("{what} in {}: unreadable answer: {err}", self.name)))?;
            for object in page.contents {
                let Some(relative) = object.key.strip_prefix(&self.prefix) else {
                    continue;
                };
                let modified = object
                    .last_modified
                    .as_deref()
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                    .map_or(SystemTime::UNIX_EPOCH, SystemTime::from);
                found.push(Listed {
                    path: PathBuf::from(relative),
                    bytes: object.size.unwrap_or(0),
                    modified,
                });
            }
            continuation = page.next_continuation_token;
            if continuation.is_none() || most.is_some_and(|most| found.len() >= most) {
                return Ok(found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_url_names_a_bucket_and_a_prefix() {
        assert_eq!(
            parse_asset_store("s3://media/lamina/prod/"),
            Ok(("media".to_owned(), "lamina/prod/".to_owned()))
        );
        assert_eq!(parse_asset_store("s3://media"), Ok(("media".to_owned(), String::new())));
        assert_eq!(
            parse_asset_store("s3://media/"),
            Ok(("media".to_owned(), String::new()))
        );
        for wrong in [
            "media",
            "https://media/x",
            "s3://",
            "s3://Media/x",
            "s3://m/x",
            "s3://media/a/../b",
        ] {
            assert!(parse_asset_store(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn keys_are_the_layout_below_the_prefix_and_the_secret_is_never_shown() {
        let s3 = S3::from_env("s3://media/site", Some("http://127.0.0.1:9/")).unwrap();
        assert_eq!(s3.key(Path::new("originals/ab")).unwrap(), "site/originals/ab");
        let shown = format!("{s3:?} {}", s3.describe());
        assert!(shown.contains("s3://media/site/"), "{shown}");
        // Path style at a named endpoint.
        let url = s3.bucket.get_object(None, "site/originals/ab").sign(SIGNED_FOR);
        assert!(
            url.as_str().starts_with("http://127.0.0.1:9/media/site/originals/ab"),
            "{url}"
        );
    }

    #[test]
    fn a_store_that_does_not_answer_is_unreachable() {
        // Port 9 (discard) is closed here: the connection is refused.
        let s3 = S3::from_env("s3://media/site", Some("http://127.0.0.1:9")).unwrap();
        let err = s3.get(Path::new("originals/ab")).unwrap_err();
        assert!(is_unreachable(&err), "{err}");
        assert!(!is_unreachable(&std::io::Error::other("disk full")));
    }
}

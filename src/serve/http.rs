//! The HTTP side of `serve`: routes requests to the site in memory, the live-reload script and the
//! event stream, and turns away requests it should not answer.
//!
//! Pages are served from the [`Site`] held in memory, never from the disk, so no request path can
//! reach a file outside the output whatever it spells: a path is looked up as a key of the site's
//! map, after being decoded and rejected if it holds `..`, `.`, an empty segment, a backslash or a
//! NUL.
//!
//! The server is hyper's HTTP/1 on a single-threaded tokio runtime, one task per connection (see
//! [`super::connections`] for the cap and the time limits). Limits on what a request
//! may be:
//! - a request target longer than [`MAX_TARGET`] gets `414 URI Too Long`; a request head (request
//!   line and headers together) over [`MAX_HEAD`], or with more than 100 headers, gets
//!   `431 Request Header Fields Too Large`. hyper gives up on a head once it has buffered about
//!   that much (so a 200 MB URL costs about 32 KiB of memory, and gets 431), and the handler checks the exact size;
//! - only GET and HEAD are answered (`405` otherwise);
//! - the `Host` header must name this server ([`AllowedHosts`]), or the answer is `403`: a web page
//!   elsewhere cannot read the preview by pointing its own domain at 127.0.0.1 (DNS rebinding).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, TcpListener};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::mpsc::UnboundedReceiver;

use super::connections::{self, Admission, Busy, Connection, Registry};
use super::events::Hub;
use crate::output::is_safe_relative;
use crate::render::Site;

/// The live-reload client, served at `/__calcbook/live.js` with the current build id filled in.
const LIVE_JS: &str = include_str!("live.js");

/// How often an idle event stream sends a comment line: it is how a closed tab is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The longest request target (path and query) answered; longer gets 414. Browsers send far
/// shorter ones to a book; this is what nginx allows by default.
pub const MAX_TARGET: usize = 8 * 1024;
/// The most a request head may take, request line included; more gets 431. hyper buffers little
/// more than this of a request before giving up on it.
pub const MAX_HEAD: usize = 32 * 1024;

/// What the HTTP thread shares with the rebuild loop.
pub struct Shared {
    /// The site being served: the last good build (or the first one, if no build succeeded yet).
    pub site: RwLock<Arc<Site>>,
    pub hub: Hub,
}

/// What a request path refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    LiveJs,
    Events,
    /// A file of the site, by its key (`part/intro.html`).
    File(String),
    /// A folder without its trailing slash: redirect so relative links resolve.
    Redirect(String),
    NotFound,
}

/// The names a request's `Host` header may give: the loopback names, the address `serve` is bound
/// to, and any the user allowed. Bound to every interface (`0.0.0.0`, `::`), any IP address is
/// accepted too: DNS rebinding needs a domain name, and the machine's addresses are not known in
/// advance.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    names: Vec<String>,
    any_ip: bool,
}

impl AllowedHosts {
    /// What a server bound to `bind` answers to, plus the `extra` names (`--allow-host`).
    pub fn new(bind: IpAddr, extra: &[String]) -> AllowedHosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !bind.is_unspecified() {
            names.push(host_name_of(bind));
        }
        names.extend(extra.iter().map(|n| normalize_host(n)));
        AllowedHosts {
            names,
            any_ip: bind.is_unspecified(),
        }
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) names this server. The
    /// port is not checked: only the name tells a rebinding page from the user.
    pub fn allows(&self, host: &str) -> bool {
        let name = normalize_host(strip_port(host));
        if self.names.contains(&name) {
            return true;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        self.any_ip && bare.parse::<IpAddr>().is_ok()
    }

    /// The accepted names, for the message of a refusal.
    fn describe(&self) -> String {
        let mut text = self.names.join(", ");
        if self.any_ip {
            text.push_str(" and any IP address");
        }
        text
    }
}

/// `192.168.1.2`, or `[fe80::1]` as a `Host` header writes an IPv6 address.
fn host_name_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Lower case, without the trailing dot of a fully qualified name.
fn normalize_host(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// `host:8080` -> `host`; `[::1]:8080` -> `[::1]`; a colon not followed by a port is kept.
fn strip_port(host: &str) -> &str {
    let name_end = if host.starts_with('[') {
        host.find(']').map_or(host.len(), |i| i + 1)
    } else {
        host.rfind(':').unwrap_or(host.len())
    };
    let (name, rest) = host.split_at(name_end);
    match rest.strip_prefix(':') {
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        None if rest.is_empty() => name,
        _ => host,
    }
}

/// Starts answering requests on `listener` in a background thread, which runs every connection.
pub fn start(
    listener: TcpListener,
    shared: Arc<Shared>,
    hosts: AllowedHosts,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    // Registered with the runtime here, so a failure is reported to the caller.
    let listener = {
        let _entered = runtime.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    let server = Arc::new(Server {
        shared,
        hosts,
        registry: Registry::default(),
    });
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || runtime.block_on(accept_loop(listener, server)))?;
    Ok(())
}

/// Everything a connection's task needs.
struct Server {
    shared: Arc<Shared>,
    hosts: AllowedHosts,
    registry: Registry,
}

async fn accept_loop(listener: tokio::net::TcpListener, server: Arc<Server>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was accepted: wait a
            // moment rather than spin, and go on.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Head and body go out in one write anyway; no delay for the last segment.
        let _ = stream.set_nodelay(true);
        match server.registry.admit(connections::MAX_CONNECTIONS) {
            Admission::Admitted(connection) => {
                tokio::spawn(serve_connection(stream, Arc::clone(&server), connection));
            }
            Admission::Full => {
                tokio::spawn(turn_away(stream));
            }
        }
    }
}

/// Serves one connection until the client closes it, it times out or the registry evicts it.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    server: Arc<Server>,
    connection: Arc<Connection>,
) {
    let io = TokioIo::new(connections::WriteDeadline::new(
        stream,
        connections::WRITE_TIMEOUT,
    ));
    let service = {
        let (server, connection) = (Arc::clone(&server), Arc::clone(&connection));
        hyper::service::service_fn(move |request| {
            let busy = connection.busy();
            let response = respond(&request, &server.shared, &server.hosts);
            std::future::ready(Ok::<_, Infallible>(response.map(|body| body.holding(busy))))
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(connections::HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .max_headers(100);
    // Dropping the connection's future closes its socket.
    until(http.serve_connection(io, service), connection.evicted()).await;
    server.registry.release(&connection);
}

/// Runs `work` until it finishes or `stop` does, whichever is first.
async fn until(work: impl Future, stop: impl Future<Output = ()>) {
    let mut work = std::pin::pin!(work);
    let mut stop = std::pin::pin!(stop);
    std::future::poll_fn(|cx| {
        if work.as_mut().poll(cx).is_ready() || stop.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

/// Answers a connection beyond the cap, when no idle one could give way, and closes it.
async fn turn_away(stream: tokio::net::TcpStream) {
    let body = "calcbook serve: too many open connections; try again\n";
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut left = reply.as_bytes();
    // Written by hand: a few hundred bytes fit the socket's buffer, and tokio's write helpers
    // would be one more feature to build.
    let _ = tokio::time::timeout(connections::WRITE_TIMEOUT, async {
        while !left.is_empty() && stream.writable().await.is_ok() {
            match stream.try_write(left) {
                Ok(n) => left = &left[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    })
    .await;
}

/// The response to one request.
fn respond<B>(request: &Request<B>, shared: &Shared, hosts: &AllowedHosts) -> Response<Payload> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    match host {
        None => {
            return text(
                StatusCode::BAD_REQUEST,
                "a Host header is required\n".into(),
            );
        }
        Some(host) if !hosts.allows(host) => {
            let message = format!(
                "calcbook serve answers to {} only, not to `{host}`. To preview the book under \
                 that name, start it with `--allow-host NAME`.\n",
                hosts.describe()
            );
            return text(StatusCode::FORBIDDEN, message);
        }
        Some(_) => {}
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut reply = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served\n".into(),
        );
        reply
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return reply;
    }
    // The target as the client wrote it. An absolute-form one (`http://host/x`) stays whole, so
    // it is not found: this is not a proxy.
    let uri = request.uri();
    let target = match uri.path_and_query() {
        Some(path) if uri.scheme().is_none() => path.as_str().to_string(),
        _ => uri.to_string(),
    };
    if target.len() > MAX_TARGET {
        return text(
            StatusCode::URI_TOO_LONG,
            "the request target is too long\n".into(),
        );
    }
    // hyper stops buffering a head at about `MAX_HEAD` (it checks between reads, so a head that
    // arrives in one read may run over); this makes the limit exact.
    let head_size = target.len()
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head_size > MAX_HEAD {
        return text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request's headers are too large\n".into(),
        );
    }
    let site = Arc::clone(&shared.site.read().unwrap_or_else(|e| e.into_inner()));
    match route(&target, &site) {
        Route::Events => event_stream(&shared.hub),
        Route::LiveJs => {
            let js = LIVE_JS.replace("__CALCBOOK_BUILD__", &shared.hub.build_id());
            file(StatusCode::OK, Bytes::from(js), "live.js")
        }
        Route::File(path) => file(StatusCode::OK, shared_bytes(&site.files[&path]), &path),
        Route::Redirect(to) => {
            let mut reply = file(StatusCode::MOVED_PERMANENTLY, Bytes::new(), "301.txt");
            if let Ok(location) = HeaderValue::from_str(&to) {
                reply.headers_mut().insert(header::LOCATION, location);
            }
            reply
        }
        Route::NotFound => match site.files.get("404.html") {
            Some(page) => file(StatusCode::NOT_FOUND, shared_bytes(page), "404.html"),
            None => text(StatusCode::NOT_FOUND, "not found\n".into()),
        },
    }
}

/// A whole file as the response, typed by `path`'s extension.
/// A file of the site as a response body that shares its bytes rather than copying them (a
/// request for the print page or search index of a 13 MB book copied 15 MB).
fn shared_bytes(bytes: &Arc<Vec<u8>>) -> Bytes {
    struct Shared(Arc<Vec<u8>>);
    impl AsRef<[u8]> for Shared {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
    Bytes::from_owner(Shared(Arc::clone(bytes)))
}

fn file(status: StatusCode, body: Bytes, path: &str) -> Response<Payload> {
    let mut reply = Response::new(Payload::whole(body));
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    // A preview must never show a stale page from the browser's cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    reply
}

fn text(status: StatusCode, message: String) -> Response<Payload> {
    file(status, Bytes::from(message), "reply.txt")
}

/// The event stream: the greeting, then every frame the hub sends, with a comment line when idle.
fn event_stream(hub: &Hub) -> Response<Payload> {
    let (events, greeting) = hub.subscribe();
    let mut reply = file(StatusCode::OK, Bytes::new(), "events");
    *reply.body_mut() = Payload {
        kind: Kind::Events {
            pending: greeting.into(),
            events,
            keepalive: Box::pin(tokio::time::sleep(KEEPALIVE)),
        },
        _busy: None,
    };
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    reply
}

/// A response body: a whole file, or an event stream that lasts as long as the page is open. It
/// holds the connection's [`Busy`] mark until hyper has written it and drops it.
struct Payload {
    kind: Kind,
    _busy: Option<Busy>,
}

enum Kind {
    Whole(Option<Bytes>),
    Events {
        /// Frames to send before waiting for more.
        pending: VecDeque<String>,
        events: UnboundedReceiver<String>,
        keepalive: Pin<Box<tokio::time::Sleep>>,
    },
}

impl Payload {
    fn whole(bytes: Bytes) -> Payload {
        Payload {
            kind: Kind::Whole(Some(bytes)),
            _busy: None,
        }
    }

    fn holding(mut self, busy: Busy) -> Payload {
        self._busy = Some(busy);
        self
    }
}

impl Body for Payload {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let data = |s: String| Poll::Ready(Some(Ok(Frame::data(Bytes::from(s)))));
        match &mut self.kind {
            Kind::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Events {
                pending,
                events,
                keepalive,
            } => {
                if let Some(frame) = pending.pop_front() {
                    return data(frame);
                }
                match events.poll_recv(cx) {
                    Poll::Ready(Some(frame)) => {
                        // Keep-alive comments only fill silences.
                        keepalive
                            .as_mut()
                            .reset(tokio::time::Instant::now() + KEEPALIVE);
                        return data(frame);
                    }
                    // The hub is gone: the server is stopping.
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Pending => {}
                }
                match keepalive.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        let next = tokio::time::Instant::now() + KEEPALIVE;
                        keepalive.as_mut().reset(next);
                        data(": keep-alive\n\n".into())
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, Kind::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Events { .. } => SizeHint::default(),
        }
    }
}

/// Resolves a request target (`/part/intro.html?x`) against the site.
pub fn route(url: &str, site: &Site) -> Route {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let Some(path) = path.strip_prefix('/') else {
        // Absolute-form (`http://host/x`) or garbage: this is not a proxy.
        return Route::NotFound;
    };
    let Some(decoded) = percent_decode(path) else {
        return Route::NotFound;
    };
    match decoded.as_str() {
        "__calcbook/live.js" => return Route::LiveJs,
        "__calcbook/events" => return Route::Events,
        _ => {}
    }
    if decoded.contains(['\\', '\0']) {
        return Route::NotFound;
    }
    let folder = decoded.is_empty() || decoded.ends_with('/');
    let key = if folder {
        format!("{decoded}index.html")
    } else {
        decoded.clone()
    };
    // Every segment must be a plain name: no `..`, `.`, or empty (`//`, which would make the rest
    // absolute).
    if !key
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        || !is_safe_relative(&key)
    {
        return Route::NotFound;
    }
    if site.files.contains_key(&key) {
        Route::File(key)
    } else if !folder && site.files.contains_key(&format!("{key}/index.html")) {
        Route::Redirect(format!("/{path}/"))
    } else {
        Route::NotFound
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `Content-Type` for an output file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let mut site = Site::default();
        site.add("index.html", "home");
        site.add("a.html", "a");
        site.add("part/index.html", "part");
        site.add("img/x y.svg", "<svg/>");
        site
    }

    #[test]
    fn folders_serve_their_index() {
        let site = site();
        assert_eq!(route("/", &site), Route::File("index.html".into()));
        assert_eq!(
            route("/part/", &site),
            Route::File("part/index.html".into())
        );
        assert_eq!(route("/part", &site), Route::Redirect("/part/".into()));
        assert_eq!(route("/a.html?x=1", &site), Route::File("a.html".into()));
        assert_eq!(
            route("/img/x%20y.svg", &site),
            Route::File("img/x y.svg".into())
        );
    }

    #[test]
    fn traversal_and_odd_paths_are_not_found() {
        let site = site();
        for url in [
            "/../a.html",
            "/%2e%2e/a.html",
            "/%2E%2E%2Fa.html",
            "/part/../a.html",
            "/./a.html",
            "//a.html",
            "/..\\a.html",
            "/part%5c..%5ca.html",
            "/a.html%00",
            "/%ff",
            "/%zz",
            "a.html",
            "http://evil/a.html",
            "/nope.html",
        ] {
            assert_eq!(route(url, &site), Route::NotFound, "{url}");
        }
    }

    #[test]
    fn live_reload_routes() {
        let site = site();
        assert_eq!(route("/__calcbook/live.js", &site), Route::LiveJs);
        assert_eq!(route("/__calcbook/events", &site), Route::Events);
    }

    #[test]
    fn loopback_names_and_the_bound_address_are_allowed() {
        let local = AllowedHosts::new("127.0.0.1".parse().unwrap(), &[]);
        for host in [
            "localhost",
            "localhost:3000",
            "127.0.0.1:3000",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(local.allows(host), "{host}");
        }
        for host in [
            "evil.test",
            "evil.test:3000",
            "10.0.0.1",
            "[::1]x",
            "localhost:x",
            "",
        ] {
            assert!(!local.allows(host), "{host}");
        }
        let lan = AllowedHosts::new("192.168.1.2".parse().unwrap(), &["Book.Local".into()]);
        assert!(lan.allows("192.168.1.2:3000") && lan.allows("book.local."));
        assert!(!lan.allows("192.168.1.3"));
        let v6 = AllowedHosts::new("fe80::1".parse().unwrap(), &[]);
        assert!(v6.allows("[fe80::1]:3000"));
    }

    #[test]
    fn bound_to_every_interface_any_ip_address_is_allowed_but_no_other_name() {
        let all = AllowedHosts::new("0.0.0.0".parse().unwrap(), &[]);
        assert!(all.allows("192.168.1.2:3000") && all.allows("[fe80::1]:80"));
        assert!(all.allows("localhost"));
        assert!(!all.allows("my-laptop.local") && !all.allows("0.0.0.0.evil.test"));
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("a/b.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("data.csv"), "text/csv; charset=utf-8");
        assert_eq!(content_type("chart.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}

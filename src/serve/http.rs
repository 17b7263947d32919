//! The HTTP side of `serve`: routes requests to the site in memory, the live-reload script and the
//! event stream.
//!
//! Pages are served from the [`Site`] held in memory, never from the disk, so no request path can
//! reach a file outside the output whatever it spells: a path is looked up as a key of the site's
//! map, after being decoded and rejected if it holds `..`, `.`, an empty segment, a backslash or a
//! NUL. One thread per request (a preview server has a handful of clients); the event stream holds
//! its thread for as long as the page stays open.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tiny_http::{Method, Request, Server};

use super::events::Hub;
use crate::output::is_safe_relative;
use crate::render::Site;

/// The live-reload client, served at `/__calcbook/live.js` with the current build id filled in.
const LIVE_JS: &str = include_str!("live.js");

/// How often an idle event stream sends a comment line: it is how a closed tab is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// What the HTTP threads share with the rebuild loop.
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

/// Starts answering requests on `listener` in a background thread.
pub fn start(listener: TcpListener, shared: Arc<Shared>) -> std::io::Result<()> {
    let server = Server::from_listener(listener, None).map_err(std::io::Error::other)?;
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            for request in server.incoming_requests() {
                let shared = Arc::clone(&shared);
                let _ = std::thread::Builder::new()
                    .name("http-request".into())
                    .spawn(move || handle(request, &shared));
            }
        })?;
    Ok(())
}

fn handle(request: Request, shared: &Shared) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        let reply = Reply::new(405, b"only GET and HEAD are served\n".to_vec(), "405.txt")
            .with_header("Allow", "GET, HEAD");
        return send(request, reply);
    }
    let site = Arc::clone(&shared.site.read().unwrap_or_else(|e| e.into_inner()));
    let reply = match route(request.url(), &site) {
        Route::Events => return stream_events(request, shared),
        Route::LiveJs => {
            let js = LIVE_JS.replace("__CALCBOOK_BUILD__", &shared.hub.build_id());
            Reply::new(200, js.into_bytes(), "live.js")
        }
        Route::File(path) => Reply::new(200, site.files[&path].to_vec(), &path),
        Route::Redirect(to) => Reply::new(301, Vec::new(), "301.txt").with_header("Location", &to),
        Route::NotFound => match site.files.get("404.html") {
            Some(page) => Reply::new(404, page.to_vec(), "404.html"),
            None => Reply::new(404, b"not found\n".to_vec(), "404.txt"),
        },
    };
    send(request, reply);
}

/// A complete response, written in one piece.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, body: Vec<u8>, path: &str) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type", content_type(path).to_string()),
                // A preview must never show a stale page from the browser's cache.
                ("Cache-Control", "no-store".to_string()),
                ("X-Content-Type-Options", "nosniff".to_string()),
            ],
            body,
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// Writes the reply with a single write. tiny_http's own responses write the head and the body
/// separately; on a kept-alive connection Nagle's algorithm then holds the body's last segment
/// until the client's delayed ACK, about 40 ms per request on Linux, which would be most of the
/// time a live update takes.
fn send(request: Request, reply: Reply) {
    let head_only = *request.method() == Method::Head;
    let reason = match reply.status {
        200 => "OK",
        301 => "Moved Permanently",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    };
    let mut out = Vec::with_capacity(256 + reply.body.len());
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", reply.body.len());
    if !head_only {
        out.extend_from_slice(&reply.body);
    }
    let mut writer = request.into_writer();
    let _ = writer.write_all(&out).and_then(|()| writer.flush());
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

/// Holds the request's connection open and writes server-sent events to it until the page goes
/// away. The response is written by hand: tiny_http's own responses buffer a streamed body, which
/// would hold events back.
fn stream_events(request: Request, shared: &Shared) {
    let (events, greeting) = shared.hub.subscribe();
    let mut out = request.into_writer();
    let head = "HTTP/1.1 200 OK\r\n\
                Content-Type: text/event-stream\r\n\
                Cache-Control: no-store\r\n\
                Connection: close\r\n\
                X-Content-Type-Options: nosniff\r\n\r\n";
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut send = |frame: &str| out.write_all(frame.as_bytes()).and_then(|()| out.flush());
    for frame in greeting {
        if send(&frame).is_err() {
            return;
        }
    }
    loop {
        let frame = match events.recv_timeout(KEEPALIVE) {
            Ok(frame) => frame,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => ": keep-alive\n\n".into(),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if send(&frame).is_err() {
            return;
        }
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
    fn content_types_by_extension() {
        assert_eq!(content_type("a/b.HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("data.csv"), "text/csv; charset=utf-8");
        assert_eq!(content_type("chart.svg"), "image/svg+xml");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}

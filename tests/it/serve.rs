//! End-to-end tests of `calcbook serve`: the real binary on a free port, driven with plain HTTP/1.1
//! over `TcpStream`. Every wait has a deadline, so a broken server fails a test instead of hanging
//! the suite, and the server is killed when its guard drops.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestBook, calcbook};

const WAIT: Duration = Duration::from_secs(15);

fn small_book() -> TestBook {
    TestBook::new(&[
        (
            "src/SUMMARY.md",
            "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
        ),
        ("src/one.md", "# One\n\nThe first chapter.\n"),
        ("src/two.md", "# Two\n\nThe second chapter.\n"),
    ])
}

/// A running `calcbook serve`, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(book: &TestBook) -> Server {
        Server::start_with(book, &[])
    }

    fn start_with(book: &TestBook, args: &[&str]) -> Server {
        let mut child = calcbook()
            .arg("serve")
            .arg(book.root())
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start calcbook serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (tx, rx) = channel();
        let out_pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            stderr,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                        let host = url.trim_start_matches("http://").trim_end_matches('/');
                        server.addr = host.parse().expect("address in the URL");
                        return server;
                    }
                }
                Err(_) => panic!("serve printed no URL:\n{}", server.stderr()),
            }
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The log once it holds `needle` (the server prints a rebuild's line after its event).
    #[track_caller]
    fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = self.stderr();
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the log never said `{needle}`:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[track_caller]
    fn get(&self, path: &str) -> Response {
        get(self.addr, path)
    }

    fn events(&self) -> Events {
        Events::connect(self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    headers: String,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTP/1.1 GET; `path` is sent exactly as written.
#[track_caller]
fn get(addr: SocketAddr, path: &str) -> Response {
    get_as(addr, path, &addr.to_string())
}

/// A GET with the given `Host` header.
#[track_caller]
fn get_as(addr: SocketAddr, path: &str, host: &str) -> Response {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    exchange(addr, request.as_bytes())
}

/// Sends `request` as it is and reads the response until the server closes the connection.
#[track_caller]
fn exchange(addr: SocketAddr, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    // A server that refuses a request before reading all of it may reset the connection after
    // its answer: what was read counts.
    if let Err(e) = stream.read_to_end(&mut raw) {
        assert!(
            e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty(),
            "read response: {e}"
        );
    }
    parse_response(&raw)
}

#[track_caller]
fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let (status_line, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    Response {
        status,
        headers: headers.to_string(),
        body: body.to_string(),
    }
}

/// A subscription to `/__calcbook/events`, parsed into (event, data) pairs by a reader thread.
struct Events {
    rx: Receiver<(String, String)>,
    _stream: TcpStream,
}

impl Events {
    fn connect(addr: SocketAddr) -> Events {
        let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        write!(
            stream,
            "GET /__calcbook/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let reader = stream.try_clone().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            // The response head; the stream's length is unknown, so its body comes in chunks.
            let mut chunked = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                chunked |= line == "transfer-encoding: chunked";
            }
            let mut body: Box<dyn BufRead> = if chunked {
                Box::new(BufReader::new(Dechunk {
                    chunks: reader,
                    left: Default::default(),
                }))
            } else {
                Box::new(reader)
            };
            let (mut event, mut data) = (String::new(), String::new());
            loop {
                let mut line = String::new();
                if body.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end_matches('\n');
                if line.is_empty() {
                    if !event.is_empty() && tx.send((event.clone(), data.clone())).is_err() {
                        return;
                    }
                    event.clear();
                    data.clear();
                } else if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
        });
        let events = Events {
            rx,
            _stream: stream,
        };
        // Subscribed once the greeting arrives: edits after this are seen.
        events.expect("hello", |_| true);
        events
    }

    /// Waits for an `event` whose data satisfies `pred`, skipping others.
    #[track_caller]
    fn expect(&self, event: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((name, data)) => {
                    let value: serde_json::Value =
                        serde_json::from_str(&data).expect("event data is JSON");
                    if name == event && pred(&value) {
                        return value;
                    }
                    seen.push(format!("{name}: {data}"));
                }
                Err(_) => panic!("no `{event}` event; saw:\n{}", seen.join("\n")),
            }
        }
    }

    /// The next event, whatever it is.
    #[track_caller]
    fn next(&self) -> (String, serde_json::Value) {
        let (name, data) = self.rx.recv_timeout(WAIT).expect("no event");
        (
            name,
            serde_json::from_str(&data).expect("event data is JSON"),
        )
    }
}

/// The payload of a `Transfer-Encoding: chunked` body.
struct Dechunk<R> {
    chunks: R,
    /// What is left of the current chunk.
    left: std::collections::VecDeque<u8>,
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left.is_empty() {
            let mut size = String::new();
            self.chunks.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).map_err(std::io::Error::other)?;
            if size == 0 {
                return Ok(0);
            }
            let mut chunk = vec![0; size + 2];
            self.chunks.read_exact(&mut chunk)?;
            chunk.truncate(size);
            self.left = chunk.into();
        }
        self.left.read(buf)
    }
}

fn changed(update: &serde_json::Value, page: &str) -> Option<String> {
    update["pages"][page].as_str().map(str::to_string)
}

/// Every file under `dir` with its modification time.
fn written(dir: &Path) -> std::collections::BTreeMap<String, std::time::SystemTime> {
    let mut files = std::collections::BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(rel, mtime(&path));
            }
        }
    }
    files
}

fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn an_edit_is_pushed_and_served_and_only_changed_files_are_written() {
    let book = small_book();
    let server = Server::start(&book);
    let page = server.get("/one.html");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The first chapter."));
    assert!(
        page.body.contains("__calcbook/live.js"),
        "no live-reload script"
    );
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    // The output folder holds the book too.
    assert!(book.page("one.html").contains("The first chapter."));
    let before = written(&book.out(""));

    let events = server.events();
    book.write("src/one.md", "# One\n\nThe first chapter, edited.\n");
    let update = served_after_updates(&server, &events, "one.html", "The first chapter, edited.");
    assert_eq!(changed(&update, "one.html").as_deref(), Some("content"));
    assert_eq!(changed(&update, "two.html"), None, "{update}");
    // The files that hold the whole book follow in an update of their own.
    let whole = loop {
        let whole = events.expect("update", |u| changed(u, "print.html").is_some());
        if book
            .page("print.html")
            .contains("The first chapter, edited.")
        {
            break whole;
        }
    };
    assert_eq!(whole["pages"].as_object().unwrap().len(), 1, "{whole}");
    let after = written(&book.out(""));
    let rewritten: Vec<&String> = after
        .iter()
        .filter(|(path, time)| before.get(*path) != Some(time))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        rewritten,
        // The first chapter is the landing page too.
        ["index.html", "one.html", "print.html", "searchindex.js"],
        "the files rewritten after the edit"
    );
    assert!(
        server
            .get("/one.html")
            .body
            .contains("The first chapter, edited.")
    );
    assert!(book.page("one.html").contains("The first chapter, edited."));

    // A new chapter in SUMMARY.md changes the sidebar, which is one script (toc.js) for every
    // page: open pages reload for it, and only the pages whose neighbours changed are rewritten.
    let one_written = mtime(&book.out("one.html"));
    book.write("src/three.md", "# Three\n");
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n- [Three](three.md)\n",
    );
    let update = events.expect("update", |u| changed(u, "three.html").is_some());
    assert_eq!(update["reload"], true, "{update}");
    assert_eq!(changed(&update, "one.html"), None, "{update}");
    // Two's next link (in <head> too) now leads to Three.
    assert!(changed(&update, "two.html").is_some(), "{update}");
    assert_eq!(
        mtime(&book.out("one.html")),
        one_written,
        "one.html rewritten"
    );
    assert!(book.page("toc.js").contains("three.html"));
    assert_eq!(server.get("/three.html").status, 200);
}

#[test]
fn an_error_shows_in_the_event_and_the_last_good_page_stays_until_fixed() {
    let book = small_book();
    let server = Server::start(&book);
    let events = server.events();
    book.write(
        "src/one.md",
        "# One\n\nNow broken.\n\nSee {{#include nope.rs}}.\n",
    );
    let failed = events.expect("failed", |_| true);
    let error = &failed["errors"][0];
    assert_eq!(error["location"], "src/one.md:5:5", "{failed}");
    let text = error["text"].as_str().unwrap();
    assert!(
        text.contains("{{#include nope.rs}}"),
        "no source excerpt: {text}"
    );
    assert!(text.contains("^^^"), "no caret: {text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in the event: {text}"
    );
    // Still the last good content, in memory and on disk.
    let page = server.get("/one.html");
    assert!(page.body.contains("The first chapter.") && !page.body.contains("Now broken"));
    assert!(book.page("one.html").contains("The first chapter."));
    // A page that connects while the book is broken learns about it at once.
    let late = server.events();
    late.expect("failed", |_| true);

    book.write("src/one.md", "# One\n\nFixed.\n");
    let update = served_after_updates(&server, &events, "one.html", "Fixed.");
    assert_eq!(changed(&update, "one.html").as_deref(), Some("content"));
    assert!(
        server.stderr().contains("bad-include"),
        "{}",
        server.stderr()
    );
}

#[test]
fn traversal_and_odd_paths_get_404_and_folders_serve_their_index() {
    let book = small_book();
    book.write(
        "src/img/chart.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    book.write("src/img/README.md", "not listed");
    // A file beside the output that no request may reach.
    book.write("secret.txt", "secret");
    let server = Server::start(&book);
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/img/../../secret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/one.html%00",
        "/nope.html",
        "http://example.com/one.html",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.body.contains("secret"), "{path}");
    }
    let index = server.get("/");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("The first chapter."));
    assert_eq!(server.get("/index.html?x=1").status, 200);
    let svg = server.get("/img/chart.svg");
    assert_eq!(svg.header("Content-Type"), Some("image/svg+xml"));
    let css_path = index
        .body
        .split('"')
        .find(|s| s.starts_with("assets/calcbook-") && s.ends_with(".css"))
        .expect("a fingerprinted stylesheet");
    let css = server.get(&format!("/{css_path}"));
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    let js = server.get("/__calcbook/live.js");
    assert_eq!(
        js.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.body.contains("EventSource") && !js.body.contains("__CALCBOOK_BUILD__"));
}

#[test]
fn deleted_renamed_and_invalid_chapters_do_not_stop_the_server() {
    let book = small_book();
    // Without this a listed chapter that goes missing is rebuilt from its title (mdBook's
    // `create-missing`), with a warning.
    book.write(
        "book.toml",
        "[book]\ntitle = \"Test\"\n\n[build]\ncreate-missing = false\n",
    );
    let server = Server::start(&book);
    let events = server.events();

    // Deleted while still listed: an error, and the old page is still served.
    std::fs::remove_file(book.root().join("src/two.md")).unwrap();
    let failed = events.expect("failed", |_| true);
    assert!(failed.to_string().contains("two.md"), "{failed}");
    assert_eq!(server.get("/two.html").status, 200);

    // Renamed: SUMMARY.md follows, the old page goes (from memory and disk).
    book.write("src/deux.md", "# Deux\n");
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [One](one.md)\n- [Deux](deux.md)\n",
    );
    let update = events.expect("update", |u| changed(u, "deux.html").is_some());
    assert!(
        update["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "two.html"),
        "{update}"
    );
    assert_eq!(server.get("/two.html").status, 404);
    assert!(!book.out("two.html").exists());

    // Saved as invalid UTF-8: an error at the bad byte.
    book.write_bytes("src/one.md", b"# One\n\nbad \xff byte\n");
    let failed = events.expect("failed", |_| true);
    assert!(failed.to_string().contains("invalid-utf8"), "{failed}");
    assert_eq!(server.get("/one.html").status, 200);

    book.write("src/one.md", "# One\n\nGood again.\n");
    served_after_updates(&server, &events, "one.html", "Good again.");
}

/// Waits for updates of `page` until the server serves it with `text`: a save that truncates the
/// file, then writes it, may be built twice when the writer is slow (an empty chapter first).
/// Returns the first of those updates.
#[track_caller]
fn served_after_updates(
    server: &Server,
    events: &Events,
    page: &str,
    text: &str,
) -> serde_json::Value {
    let first = events.expect("update", |u| changed(u, page).is_some());
    while !server.get(&format!("/{page}")).body.contains(text) {
        events.expect("update", |u| changed(u, page).is_some());
    }
    first
}

#[test]
fn saves_by_rename_and_truncation_are_seen_and_swap_files_ignored() {
    let book = small_book();
    let server = Server::start(&book);
    let events = server.events();

    // Editor droppings and writes into the output folder cause no rebuild, and temporary files
    // are never named in the log: the first rebuild is the chapter's, and it names the chapter.
    book.write("src/.one.md.swp", "swap");
    book.write("src/one.md~", "backup");
    book.write("src/4913", "");
    book.write("src/.#one.md", "lock");
    book.write("book/extra.html", "x");
    // JetBrains editors save through `NAME___jb_tmp___`, renamed over the chapter.
    book.write("src/one.md___jb_tmp___", "# One\n\nRenamed into place.\n");
    std::fs::rename(
        book.root().join("src/one.md___jb_tmp___"),
        book.root().join("src/one.md"),
    )
    .unwrap();
    let update = events.expect("update", |u| changed(u, "one.html").is_some());
    assert_eq!(changed(&update, "one.html").as_deref(), Some("content"));
    assert!(server.get("/one.html").body.contains("Renamed into place."));
    let log = server.wait_for_log("src/one.md: rebuilt");
    let rebuilds: Vec<&str> = log.lines().filter(|l| l.contains("rebuilt")).collect();
    assert_eq!(rebuilds.len(), 1, "{log}");
    for dropping in ["swp", "one.md~", "4913", ".#one", "jb_tmp", "extra.html"] {
        assert!(
            !log.contains(dropping),
            "the log names `{dropping}`:\n{log}"
        );
    }

    // Write a hidden temporary file, then rename it over the chapter.
    book.write("src/.one.md.tmp", "# One\n\nRenamed again.\n");
    std::fs::rename(
        book.root().join("src/.one.md.tmp"),
        book.root().join("src/one.md"),
    )
    .unwrap();
    events.expect("update", |u| changed(u, "one.html").is_some());
    assert!(server.get("/one.html").body.contains("Renamed again."));

    // Truncate, then write a moment later: one consistent result.
    let path = book.root().join("src/one.md");
    let mut file = std::fs::File::create(&path).unwrap();
    std::thread::sleep(Duration::from_millis(2));
    file.write_all(b"# One\n\nTruncated and rewritten.\n")
        .unwrap();
    drop(file);
    // A second build follows the first if the two writes straddled the quiet period: the page
    // ends up whole either way.
    served_after_updates(&server, &events, "one.html", "Truncated and rewritten.");
}

#[test]
fn a_taken_port_is_reported_with_a_way_out() {
    let book = small_book();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = book.run(&["serve", ".", "--port", &port]);
    run.assert_code(1)
        .assert_stderr_contains("already in use")
        .assert_stderr_contains("--port 0");
}

#[test]
fn serve_listens_on_loopback_by_default() {
    let book = small_book();
    let server = Server::start(&book);
    assert!(server.addr.ip().is_loopback(), "{}", server.addr);
}

/// Browsers reuse one connection for many requests, and may send the next before the last is
/// answered. (How fast they are answered is measured in `bench/serve_latency.py`.)
#[test]
fn kept_alive_and_pipelined_requests_are_each_answered_in_order() {
    let book = small_book();
    let server = Server::start(&book);
    let mut stream = TcpStream::connect_timeout(&server.addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut read_one = || {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert_ne!(reader.read_line(&mut line).unwrap(), 0, "connection closed");
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        String::from_utf8(body).unwrap()
    };
    let host = server.addr;
    // One after another on the same connection.
    for _ in 0..5 {
        write!(stream, "GET /one.html HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        assert!(read_one().contains("The first chapter."));
    }
    // Pipelined: all sent at once, answered in the order asked.
    let mut batch = String::new();
    for page in ["one", "two", "one", "two"] {
        batch.push_str(&format!(
            "GET /{page}.html HTTP/1.1\r\nHost: {host}\r\n\r\n"
        ));
    }
    stream.write_all(batch.as_bytes()).unwrap();
    for expected in ["first", "second", "first", "second"] {
        assert!(read_one().contains(&format!("The {expected} chapter.")));
    }
}

#[test]
fn an_overlong_request_target_gets_414_and_the_server_goes_on() {
    let book = small_book();
    let server = Server::start(&book);
    let long = format!("/{}", "a".repeat(calcbook::serve::http::MAX_TARGET + 1));
    assert_eq!(server.get(&long).status, 414);
    let long_query = format!(
        "/one.html?{}",
        "q".repeat(calcbook::serve::http::MAX_TARGET)
    );
    assert_eq!(server.get(&long_query).status, 414);
    // Just within the limit is an ordinary request.
    let within = format!("/one.html?{}", "q".repeat(1000));
    assert_eq!(server.get(&within).status, 200);
}

#[test]
fn oversized_or_too_many_headers_get_431_and_the_server_goes_on() {
    let book = small_book();
    let server = Server::start(&book);
    let addr = server.addr;
    let big = "x".repeat(calcbook::serve::http::MAX_HEAD);
    let request = format!(
        "GET /one.html HTTP/1.1\r\nHost: {addr}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(exchange(addr, request.as_bytes()).status, 431);
    let many: String = (0..200).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let request =
        format!("GET /one.html HTTP/1.1\r\nHost: {addr}\r\n{many}Connection: close\r\n\r\n");
    assert_eq!(exchange(addr, request.as_bytes()).status, 431);
    // A head many times the limit is cut off while it arrives, whether the request line or the
    // headers are too long.
    let huge = "a".repeat(calcbook::serve::http::MAX_HEAD * 8);
    assert_eq!(server.get(&format!("/{huge}")).status, 431);
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Huge: {huge}\r\n\r\n");
    assert_eq!(exchange(addr, request.as_bytes()).status, 431);
    assert_eq!(server.get("/one.html").status, 200);
}

#[test]
fn only_get_and_head_are_answered() {
    let book = small_book();
    let server = Server::start(&book);
    let addr = server.addr;
    let head = exchange(
        addr,
        format!("HEAD /one.html HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "{}", head.body);
    let length: usize = head.header("Content-Length").unwrap().parse().unwrap();
    assert_eq!(length, server.get("/one.html").body.len());
    let post = exchange(
        addr,
        format!(
            "POST /one.html HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
        )
        .as_bytes(),
    );
    assert_eq!(post.status, 405);
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));
}

/// DNS rebinding: a page on another site points its domain at 127.0.0.1 and reads the preview.
/// Only requests addressed to this server's own names are answered.
#[test]
fn only_requests_addressed_to_this_server_are_answered() {
    let book = small_book();
    let server = Server::start(&book);
    let (addr, port) = (server.addr, server.addr.port());
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LOCALHOST".to_string(),
        "localhost.".to_string(),
    ] {
        assert_eq!(get_as(addr, "/one.html", &host).status, 200, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        "localhost.evil.example".to_string(),
        format!("127.0.0.1.nip.io:{port}"),
        "192.168.1.2".to_string(),
        "".to_string(),
    ] {
        let refused = get_as(addr, "/one.html", &host);
        assert_eq!(refused.status, 403, "{host}");
        assert!(!refused.body.contains("The first chapter."), "{host}");
        assert!(refused.body.contains("--allow-host"), "{}", refused.body);
    }
    // The event stream and the script are guarded alike.
    assert_eq!(
        get_as(addr, "/__calcbook/events", "evil.example").status,
        403
    );
    assert_eq!(
        get_as(addr, "/__calcbook/live.js", "evil.example").status,
        403
    );
    let no_host = exchange(addr, b"GET /one.html HTTP/1.0\r\n\r\n");
    assert_eq!(no_host.status, 400);
}

#[test]
fn allow_host_adds_a_name_the_server_answers_to() {
    let book = small_book();
    let server = Server::start_with(&book, &["--allow-host", "Book.Test"]);
    let addr = server.addr;
    assert_eq!(get_as(addr, "/one.html", "book.test:8080").status, 200);
    assert_eq!(get_as(addr, "/one.html", "localhost").status, 200);
    assert_eq!(get_as(addr, "/one.html", "other.test").status, 403);
}

/// Idle and half-sent requests are cheap (no thread each) and capped: past the cap the oldest idle
/// ones are closed, so a crowd of them never locks the browser out.
#[test]
fn idle_connections_past_the_cap_give_way_to_new_requests() {
    let book = small_book();
    let server = Server::start(&book);
    let cap = calcbook::serve::connections::MAX_CONNECTIONS;
    let idle: Vec<TcpStream> = (0..cap + 20)
        .map(|i| {
            let mut s = TcpStream::connect_timeout(&server.addr, WAIT).expect("connect");
            // Half of them start a request and never finish it.
            if i % 2 == 1 {
                write!(s, "GET /one.html HTTP/1.1\r\nHost: localhost\r\n").unwrap();
            }
            s
        })
        .collect();
    let page = server.get("/one.html");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The first chapter."));
    // No thread per connection: the process has as many threads as with none open (main, HTTP,
    // file watcher, the test's Ctrl-C handler...), far fewer than the sockets.
    #[cfg(target_os = "linux")]
    {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
        let threads: usize = status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap();
        assert!(threads < 16, "{threads} threads for {} sockets", idle.len());
    }
    // The 21 oldest gave way (20 past the cap, and one for the request above): the server closed
    // them without an answer.
    for (i, mut stream) in idle.iter().take(21).enumerate() {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(
            matches!(read, Ok(0)) || read.is_err() && rest.is_empty(),
            "connection {i} still open: {read:?}"
        );
    }
    // The newest is still open: idle connections are closed only to make room.
    let newest = idle.last().unwrap();
    newest.set_nonblocking(true).unwrap();
    let mut byte = [0; 1];
    let still_open = (&*newest).read(&mut byte);
    assert_eq!(
        still_open.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock)
    );
}

/// Open pages (event streams) are never cut off to make room; past the cap a newcomer is told to
/// retry, and is served again once pages close.
#[test]
fn past_the_cap_of_busy_connections_a_newcomer_gets_503_until_one_closes() {
    let book = small_book();
    let server = Server::start(&book);
    let cap = calcbook::serve::connections::MAX_CONNECTIONS;
    let streams: Vec<BufReader<TcpStream>> = (0..cap)
        .map(|_| {
            let mut s = TcpStream::connect_timeout(&server.addr, WAIT).expect("connect");
            s.set_read_timeout(Some(WAIT)).unwrap();
            write!(
                s,
                "GET /__calcbook/events HTTP/1.1\r\nHost: localhost\r\n\r\n"
            )
            .unwrap();
            let mut reader = BufReader::new(s);
            let mut status = String::new();
            reader.read_line(&mut status).unwrap();
            assert!(status.starts_with("HTTP/1.1 200"), "{status}");
            reader
        })
        .collect();
    let refused = server.get("/one.html");
    assert_eq!(refused.status, 503);
    assert_eq!(refused.header("Retry-After"), Some("1"));

    drop(streams);
    let deadline = Instant::now() + WAIT;
    while server.get("/one.html").status != 200 {
        assert!(Instant::now() < deadline, "no room after the pages closed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A broken template is an error in the overlay like any other, whether Tera rejects its syntax or
/// it fails while rendering; the server keeps serving the last good pages and recovers on a fix.
#[test]
fn template_errors_are_reported_on_the_event_stream_and_serving_goes_on() {
    let book = small_book();
    book.write("templates/README.txt", "overrides of calcbook's templates");
    let server = Server::start(&book);
    let events = server.events();

    book.write("templates/page.html", "<html>{% if %}</html>\n");
    let failed = events.expect("failed", |_| true);
    assert!(failed.to_string().contains("templates"), "{failed}");
    assert!(server.get("/one.html").body.contains("The first chapter."));

    book.write(
        "templates/page.html",
        "<html>{{ page.content | safe }}{{ no_such_value.field }}</html>\n",
    );
    let failed = events.expect("failed", |_| true);
    assert!(failed.to_string().contains("no_such_value"), "{failed}");
    assert_eq!(server.get("/two.html").status, 200);

    std::fs::remove_file(book.root().join("templates/page.html")).unwrap();
    events.expect("update", |_| true);
    // A page opened now is not told of the fixed error: its next event is the next edit's.
    let late = server.events();
    book.write("src/one.md", "# One\n\nAfter the fix.\n");
    let (name, data) = late.next();
    assert_eq!(name, "update", "{data}");
    if changed(&data, "one.html").is_none()
        || !server.get("/one.html").body.contains("After the fix.")
    {
        served_after_updates(&server, &late, "one.html", "After the fix.");
    }
    assert!(server.stderr().contains("template"), "{}", server.stderr());
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let book = small_book();
    let mut server = Server::start(&book);
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

/// The update for a save carries only the nodes that changed, for every page of the bundled book
/// (charts, claim boxes, traced values, tables): the splice's tokenizer follows all that calcbook
/// writes, so an open page parses one paragraph rather than its whole content.
#[test]
fn an_appended_paragraph_is_carried_alone_for_every_page_of_the_bundled_book() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let old = calcbook::render_book(root, &calcbook::RenderOptions::default())
        .unwrap()
        .site;
    let mut pages = 0;
    for (path, bytes) in &old.files {
        let text = String::from_utf8_lossy(bytes);
        if !path.ends_with(".html") || path == "print.html" || !text.contains("</article>") {
            continue;
        }
        pages += 1;
        let mut new = old.clone();
        let edited = text.replacen("</article>", "<p>a new paragraph</p>\n</article>", 1);
        new.add(path.as_str(), edited.into_bytes());
        let changes = calcbook::serve::diff::diff(&old, &new);
        let splice = (changes.contents.get(path).and_then(|c| c.splice.as_ref()))
            .unwrap_or_else(|| panic!("{path}: no splice"));
        assert_eq!(splice.html, "<p>a new paragraph</p>\n", "{path}");
        let innermost = splice.path.last().map(|s| s.tag.as_str());
        assert_eq!(innermost, Some("article"), "{path}");
    }
    assert!(pages >= 10, "{pages} pages");
}

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
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw).into_owned();
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
            let mut lines = BufReader::new(reader).lines().map_while(Result::ok);
            // Skip the response head.
            for line in lines.by_ref() {
                if line.is_empty() {
                    break;
                }
            }
            let (mut event, mut data) = (String::new(), String::new());
            for line in lines {
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

    /// Asserts that no event arrives for `wait`.
    #[track_caller]
    fn expect_silence(&self, wait: Duration) {
        if let Ok((name, data)) = self.rx.recv_timeout(wait) {
            panic!("unexpected `{name}` event: {data}");
        }
    }
}

fn changed(update: &serde_json::Value, page: &str) -> Option<String> {
    update["pages"][page].as_str().map(str::to_string)
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
    let two_written = mtime(&book.out("two.html"));

    let events = server.events();
    std::thread::sleep(Duration::from_millis(20));
    book.write("src/one.md", "# One\n\nThe first chapter, edited.\n");
    let update = events.expect("update", |u| changed(u, "one.html").is_some());
    assert_eq!(changed(&update, "one.html").as_deref(), Some("content"));
    assert_eq!(changed(&update, "two.html"), None, "{update}");
    assert!(
        server
            .get("/one.html")
            .body
            .contains("The first chapter, edited.")
    );
    assert!(book.page("one.html").contains("The first chapter, edited."));
    assert_eq!(
        mtime(&book.out("two.html")),
        two_written,
        "two.html rewritten"
    );

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
    book.write("src/one.md", "# One\n\nNow broken.\n\nSee [x](nope.md).\n");
    let failed = events.expect("failed", |_| true);
    let error = &failed["errors"][0];
    assert_eq!(error["location"], "src/one.md:5:5", "{failed}");
    let text = error["text"].as_str().unwrap();
    assert!(text.contains("[x](nope.md)"), "no source excerpt: {text}");
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
    let update = events.expect("update", |u| changed(u, "one.html").is_some());
    assert_eq!(changed(&update, "one.html").as_deref(), Some("content"));
    assert!(server.get("/one.html").body.contains("Fixed."));
    assert!(
        server.stderr().contains("broken-link"),
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
    events.expect("update", |u| changed(u, "one.html").is_some());
    assert!(server.get("/one.html").body.contains("Good again."));
}

#[test]
fn saves_by_rename_and_truncation_are_seen_and_swap_files_ignored() {
    let book = small_book();
    let server = Server::start(&book);
    let events = server.events();

    // Editor droppings and writes into the output folder cause no rebuild.
    book.write("src/.one.md.swp", "swap");
    book.write("src/one.md~", "backup");
    book.write("src/4913", "");
    book.write("book/extra.html", "x");
    events.expect_silence(Duration::from_millis(400));

    // Write a temporary file, then rename it over the chapter.
    book.write("src/.one.md.tmp", "# One\n\nRenamed into place.\n");
    std::fs::rename(
        book.root().join("src/.one.md.tmp"),
        book.root().join("src/one.md"),
    )
    .unwrap();
    events.expect("update", |u| changed(u, "one.html").is_some());
    assert!(server.get("/one.html").body.contains("Renamed into place."));

    // Truncate, then write a moment later: one consistent result.
    let path = book.root().join("src/one.md");
    let mut file = std::fs::File::create(&path).unwrap();
    std::thread::sleep(Duration::from_millis(2));
    file.write_all(b"# One\n\nTruncated and rewritten.\n")
        .unwrap();
    drop(file);
    events.expect("update", |u| changed(u, "one.html").is_some());
    // A second build may follow the first if the two writes straddled the quiet period.
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        server
            .get("/one.html")
            .body
            .contains("Truncated and rewritten.")
    );
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

/// Pages on a kept-alive connection (what browsers use) must not wait for a delayed ACK: with the
/// head and body written separately, Nagle's algorithm held each response ~40 ms on Linux.
#[test]
fn kept_alive_requests_are_answered_without_delay() {
    let book = small_book();
    let server = Server::start(&book);
    let mut stream = TcpStream::connect_timeout(&server.addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let started = Instant::now();
    for _ in 0..10 {
        // One write: a request split over several would meet Nagle's algorithm on our side.
        let request = format!("GET /one.html HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
        stream.write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("The first chapter."));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(300),
        "10 kept-alive requests took {elapsed:?}"
    );
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

//! `calcbook serve`: build the book, serve it over HTTP, rebuild on every save and update open pages
//! in place.
//!
//! The pieces, in the order a save travels through them:
//! - [`watch`] turns file-system events into one rebuild per save (picked up when the editor closes
//!   or renames the file), ignoring editors' temporary files and the events a rebuild itself causes.
//! - [`rebuild`] renders the book in memory, reusing every cached part the save did not touch, and
//!   keeps the last good site; [`diff`] says which pages changed and whether only their content
//!   did. A save is answered in two passes: the changed pages first, then the print page and the
//!   search index (each the whole book).
//! - [`events`] pushes that to every open page as server-sent events, and [`http`] serves the site
//!   from memory, the client script (`live.js`) and the event stream.
//! - [`mirror`] writes the changed files to the output folder, so it always holds the book being
//!   previewed.
//!
//! A build with errors changes nothing that is served: the pages keep the last good content and
//! show the errors in an overlay until a save fixes them.

pub mod connections;
pub mod diff;
pub mod events;
pub mod http;
pub mod mirror;
pub mod rebuild;
pub mod splice;
pub mod watch;

use crate::diagnostic::Code;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, mpsc};
use std::time::Duration;

use crate::WholeBook;
use crate::diagnostic::Diagnostic;
use rebuild::{Build, Builder, Outcome};

/// A save is usually several events (truncate, write, close; or write a temporary file, rename).
/// This much quiet ends a burst; it is short enough not to be felt.
const QUIET: Duration = Duration::from_millis(15);
/// A burst that keeps going (a `git checkout` of many files) is cut after this long.
const LONGEST: Duration = Duration::from_millis(300);

/// What `serve` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The book's folder.
    pub root: PathBuf,
    /// Output folder to keep in step; the book's `build-dir` if `None`.
    pub dest: Option<PathBuf>,
    pub bind: IpAddr,
    /// 0 for any free port.
    pub port: u16,
    /// Host names a request may be addressed to besides the loopback ones and `bind`
    /// (`--allow-host`); any other `Host` header is refused.
    pub allow_hosts: Vec<String>,
    /// Open the book in a browser once it is served.
    pub open: bool,
    /// Colour in the diagnostics printed to the terminal.
    pub color: bool,
}

/// Why `serve` could not start.
#[derive(Debug)]
pub enum ServeError {
    /// There is no book to serve.
    Book(Diagnostic),
    /// The port is taken by another program.
    PortTaken(SocketAddr),
    Listen(SocketAddr, std::io::Error),
    Watch(notify::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Book(d) => write!(f, "{d}"),
            ServeError::PortTaken(addr) => write!(
                f,
                "port {} on {} is already in use (another `serve`?)\n  help: pick another with `--port N`, or `--port 0` for any free port",
                addr.port(),
                addr.ip()
            ),
            ServeError::Listen(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::Watch(e) => write!(f, "cannot watch the book's files: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// `serve` runs for hours and makes the whole-book files (megabytes each) anew after every save.
/// Under glibc's default, freeing a buffer that size raises the size above which memory is mapped
/// afresh, so the next ones come from the heap, which keeps what it once held: each save would
/// leave the process larger. A fixed threshold hands every large buffer back when it is freed.
/// And each thread that allocates (the HTTP runtime's, the rebuild's workers) would get an arena
/// of its own, whose freed memory the others cannot reuse: after saves to every chapter of the
/// bundled book serve held 43 MiB against a build's 26 MiB, 38 MiB with one arena. The rebuild
/// after a save allocates little, so sharing one arena cost no measurable time (save to DOM
/// 34-36 ms either way; the first render of a 1,000-chapter book 5% longer).
fn return_big_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; no memory is touched.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Serves the book until Ctrl-C. Errors in the book are reported, never fatal: only a missing book,
/// a port that cannot be had or a watcher that cannot start stop it.
pub fn serve(options: &Options) -> Result<(), ServeError> {
    return_big_buffers();
    let root = options.root.canonicalize().map_err(|e| {
        ServeError::Book(
            Diagnostic::error(
                Code::NoBook,
                format!("cannot open {}: {e}", options.root.display()),
            )
            .with_help("pass the folder that holds book.toml"),
        )
    })?;
    // Listen first, so a taken port is reported before any work.
    let addr = SocketAddr::new(options.bind, options.port);
    let listener = TcpListener::bind(addr).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::PortTaken(addr),
        _ => ServeError::Listen(addr, e),
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| ServeError::Listen(addr, e))?;

    let mut builder = Builder::new(root.clone(), options.dest.clone(), options.color);
    let first = guarded(|| builder.build());
    eprint!("{}", first.report);
    let (site, errors) = match first.outcome {
        Outcome::Updated { site, .. } => (site, None),
        Outcome::Failed { site, errors } => (site.unwrap_or_default(), Some(errors)),
        Outcome::Unchanged => unreachable!("the first build has nothing to compare with"),
    };
    let shared = Arc::new(http::Shared {
        site: RwLock::new(site),
        hub: events::Hub::new(),
    });
    match errors {
        Some(errors) => {
            shared.hub.failed(&errors);
            eprintln!("the book has errors; serving what could be rendered until they are fixed");
        }
        None => eprintln!("built the book in {:.0?}", first.elapsed),
    }
    eprint!("{}", mirror_output(&mut builder));
    // Watch before announcing the URL: a save made as soon as the page is open must be seen.
    let (tx, rx) = mpsc::channel();
    let mut watch = watch::Watch::new(tx.clone()).map_err(ServeError::Watch)?;
    watch.follow(&builder.scope());
    let hosts = http::AllowedHosts::new(options.bind, &options.allow_hosts);
    http::start(listener, Arc::clone(&shared), hosts).map_err(|e| ServeError::Listen(local, e))?;

    // Without a handler Ctrl-C would kill the process mid-write; with it the loop ends between
    // rebuilds. Failing to install it (a second handler) only loses that nicety. Installed before
    // the URL is announced, so a Ctrl-C the moment the server is up is handled too.
    let _ = ctrlc::set_handler(move || {
        let _ = tx.send(watch::Message::Stop);
    });

    let url = url_for(local);
    // Written, not `println!`ed: a closed standard output must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "serving the book at {url} (Ctrl-C to stop)");
    if local.ip().is_unspecified() {
        let _ = writeln!(
            out,
            "listening on every network interface ({local}): anyone on the network can read it"
        );
    }
    let _ = out.flush();
    if options.open {
        open_browser(&url);
    }

    loop {
        let scope = builder.scope();
        let burst = watch::next_burst(&rx, &scope, QUIET, LONGEST, |e| watch.forget_removed(e));
        if burst.stop {
            break;
        }
        // A path that is gone and that the book never read was an editor's temporary file.
        let what = describe(&burst.paths, &root, |p| {
            p.exists() || builder.read_last_time(p)
        });
        let waited = burst.first.map(|t| t.elapsed());
        answer_save(&mut builder, &shared, &what, waited);
        watch.follow(&builder.scope());
    }
    eprintln!("stopped");
    Ok(())
}

/// Rebuilds after a save in two renders: the first makes what the save changed and leaves the
/// print page and the search index (each the whole book) as they were, so open pages hear of the
/// change as soon as it is on disk; the second, with everything else cached, makes those two.
fn answer_save(builder: &mut Builder, shared: &http::Shared, what: &str, waited: Option<Duration>) {
    let build = guarded(|| builder.build_pages());
    eprint!("{}", build.report);
    match build.outcome {
        Outcome::Updated { site, changes } => {
            *shared.site.write().unwrap_or_else(|e| e.into_inner()) = site;
            // The changed pages reach the disk before the event, so that whoever hears it finds
            // both up to date. Only changed files are written.
            let mut timings = build.timings.clone();
            let mirrored = mirror_output(builder);
            timings.lap("write");
            shared.hub.updated(&changes);
            timings.lap("event");
            let pages: Vec<&str> = changes.pages.keys().map(String::as_str).collect();
            eprintln!(
                "{what}: rebuilt in {:.0?}; {}",
                build.elapsed,
                if pages.is_empty() {
                    format!("{} file(s) changed", changes.paths().count())
                } else {
                    format!("updated {}", abbreviate(&pages))
                }
            );
            eprint!("{mirrored}");
            if crate::pipeline::timings_wanted() {
                let waited = waited.map_or(0.0, |w| w.as_secs_f64() * 1000.0);
                eprintln!("  timings: save seen {waited:.1} ms before the build; {timings}");
            }
            finish_whole_book(builder, shared);
        }
        Outcome::Unchanged => {
            shared.hub.recovered();
            eprintln!("{what}: rebuilt in {:.0?}; no change", build.elapsed);
        }
        Outcome::Failed { errors, site } => report_failure(shared, what, errors, site),
    }
}

/// The later renders of a save: the search index, then the print page, each written and
/// announced before the next is made, so that serve holds the old and new copies of one
/// whole-book file at a time.
fn finish_whole_book(builder: &mut Builder, shared: &http::Shared) {
    for which in [WholeBook::SearchIndex, WholeBook::PrintPage] {
        let build = guarded(|| builder.build_whole_book_file(which));
        publish_whole_book_file(shared, builder, build);
    }
}

fn publish_whole_book_file(shared: &http::Shared, builder: &mut Builder, build: Build) {
    eprint!("{}", build.report);
    match build.outcome {
        Outcome::Updated { site, changes } => {
            *shared.site.write().unwrap_or_else(|e| e.into_inner()) = site;
            let mut timings = build.timings.clone();
            let mirrored = mirror_output(builder);
            timings.lap("write");
            shared.hub.updated(&changes);
            eprint!("{mirrored}");
            if crate::pipeline::timings_wanted() {
                eprintln!(
                    "  then a whole-book file in {:.0?}: {timings}",
                    build.elapsed
                );
            }
        }
        Outcome::Unchanged => {}
        Outcome::Failed { errors, site } => report_failure(shared, "the print page", errors, site),
    }
}

fn report_failure(
    shared: &http::Shared,
    what: &str,
    errors: Vec<events::ErrorReport>,
    site: Option<Arc<crate::render::Site>>,
) {
    if let Some(site) = site {
        *shared.site.write().unwrap_or_else(|e| e.into_inner()) = site;
    }
    shared.hub.failed(&errors);
    eprintln!(
        "{what}: {} error{}; still serving the last good build",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
}

/// Runs one build, turning a panic in it (a bug in calcbook, not in the book) into an error shown
/// like any other, so that the server goes on serving the last good pages.
fn guarded(build: impl FnOnce() -> rebuild::Build) -> rebuild::Build {
    let started = std::time::Instant::now();
    let panic = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(build)) {
        Ok(build) => return build,
        Err(panic) => panic,
    };
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    let message = format!("calcbook crashed while building the book: {what}");
    let text = format!(
        "error: {message}\n  help: this is a bug in calcbook; the server keeps running, and the \
         next save builds again\n"
    );
    rebuild::Build {
        outcome: Outcome::Failed {
            errors: vec![events::ErrorReport {
                location: String::new(),
                message,
                text: text.clone(),
            }],
            site: None,
        },
        report: text,
        elapsed: started.elapsed(),
        timings: Default::default(),
    }
}

/// Mirrors the site to the output folder; returns what to print about it.
fn mirror_output(builder: &mut Builder) -> String {
    match builder.mirror() {
        Ok(Some((dest, stats))) if stats.written + stats.removed > 0 => format!(
            "  wrote {} file(s) and removed {} in {}\n",
            stats.written,
            stats.removed,
            dest.display()
        ),
        Ok(_) => String::new(),
        Err(e) => format!("error: {e} (the book is still served from memory)\n"),
    }
}

/// The URL to print and open: a wildcard address is reached through the loopback one.
fn url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    match ip {
        IpAddr::V4(v4) => format!("http://{v4}:{}/", addr.port()),
        IpAddr::V6(v6) => format!("http://[{v6}]:{}/", addr.port()),
    }
}

/// `a.md`, `a.md and b.md`, `a.md and 3 more`, relative to the book; only the paths that `real`
/// accepts are named.
fn describe(paths: &[PathBuf], root: &Path, real: impl Fn(&Path) -> bool) -> String {
    let names: Vec<String> = paths
        .iter()
        .filter(|p| real(p))
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if names.is_empty() {
        "files changed".into()
    } else {
        abbreviate(&names)
    }
}

fn abbreviate(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [a, b] => format!("{a} and {b}"),
        [a, rest @ ..] => format!("{a} and {} more", rest.len()),
    }
}

/// Opens `url` in the desktop's browser, quietly doing nothing where there is none.
pub fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let spawned = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reap it in the background: xdg-open may wait for the browser.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(_) => eprintln!("could not open a browser; open {url} yourself"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_build_is_reported_as_a_failed_build() {
        let build = guarded(|| panic!("boom at {}", 42));
        match build.outcome {
            Outcome::Failed { errors, site } => {
                assert!(site.is_none());
                assert!(
                    errors[0].message.contains("boom at 42"),
                    "{}",
                    errors[0].message
                );
                assert!(errors[0].text.contains("bug in calcbook"));
            }
            _ => panic!("not a failure"),
        }
        assert!(build.report.contains("boom at 42"));
    }

    #[test]
    fn the_log_names_the_chapters_not_the_temporary_files_renamed_over_them() {
        let root = Path::new("/b");
        let paths = [
            PathBuf::from("/b/src/sedX1y2Z3"),
            PathBuf::from("/b/src/a.md"),
        ];
        let real = |p: &Path| p == Path::new("/b/src/a.md");
        assert_eq!(describe(&paths, root, real), "src/a.md");
        assert_eq!(describe(&paths[..1], root, real), "files changed");
    }

    #[test]
    fn urls_use_loopback_for_wildcards() {
        assert_eq!(
            url_for("0.0.0.0:3000".parse().unwrap()),
            "http://127.0.0.1:3000/"
        );
        assert_eq!(url_for("[::]:80".parse().unwrap()), "http://[::1]:80/");
        assert_eq!(
            url_for("192.168.1.2:8080".parse().unwrap()),
            "http://192.168.1.2:8080/"
        );
    }
}

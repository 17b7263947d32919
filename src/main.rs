//! The `calcbook` command line: parses arguments and calls the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use calcbook::diagnostic::{self, Code, Diagnostic, Sources};

/// Literate notebooks with unit-aware calculations, charts and verified claims.
#[derive(Parser)]
#[command(name = "calcbook", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a book to static HTML.
    Build {
        /// The book's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output folder [default: the book's build-dir, `book/`].
        #[arg(short = 'd', long)]
        dest_dir: Option<PathBuf>,
        /// Open the built book in a web browser.
        #[arg(short, long)]
        open: bool,
    },
    /// Verify a book: evaluate everything, check every claim, link and reference; write nothing.
    ///
    /// Exits 0 only when every claim holds and nothing errs (1 otherwise; 2 on bad usage).
    Check {
        /// The book's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Serve the book on a local web server, rebuilding and updating open pages on every save.
    Serve {
        /// The book's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Port to listen on; 0 picks any free port.
        #[arg(short, long, default_value_t = 3000)]
        port: u16,
        /// Host name or address to listen on, as in mdBook. The default serves this machine
        /// only; `0.0.0.0` serves the whole network.
        #[arg(short = 'n', long, visible_alias = "bind", default_value = "localhost")]
        hostname: String,
        /// Also answer requests addressed to this host name (repeatable). Only localhost,
        /// 127.0.0.1, [::1] and the --hostname address are answered otherwise, so that no other
        /// web site can read the preview through a domain pointed at this machine.
        #[arg(long = "allow-host", value_name = "NAME")]
        allow_host: Vec<String>,
        /// Output folder kept in step with the served book [default: the book's build-dir].
        #[arg(short = 'd', long)]
        dest_dir: Option<PathBuf>,
        /// Open the book in a web browser.
        #[arg(short, long)]
        open: bool,
    },
    /// Print the value of an expression in a book's scope, without building the book.
    ///
    /// `calcbook eval 'hardware.h100.hbm.bandwidth'`, `calcbook eval mybook --chapter
    /// chapters/batch.md 'ridge in FLOP/B'`: with a chapter, its calc blocks run first.
    Eval {
        /// `[DIR] EXPR`: the book's folder (default: .) and the expression.
        #[arg(num_args = 1..=2, required = true, value_names = ["DIR", "EXPR"])]
        args: Vec<String>,
        /// A chapter file (relative to the book or its source folder) whose names to use.
        #[arg(short, long)]
        chapter: Option<PathBuf>,
    },
    /// Create a new book with a starter chapter.
    Init {
        /// Folder to create the book in.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The book's title [default: "My calcbook"].
        #[arg(long)]
        title: Option<String>,
        /// `git` writes a .gitignore that leaves the built book out of version control.
        #[arg(long, value_enum, default_value = "none")]
        ignore: InitIgnore,
    },
    /// Run as an mdBook preprocessor (`[preprocessor.calcbook]` in book.toml): reads mdBook's
    /// `[context, book]` JSON on stdin, writes the book with its cells rendered on stdout.
    Preprocess {
        #[command(subcommand)]
        query: Option<PreprocessQuery>,
    },
    /// Delete the built book (the build-dir, or --dest-dir).
    Clean {
        /// The book's folder (holding book.toml).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output folder to delete [default: the book's build-dir].
        #[arg(short = 'd', long)]
        dest_dir: Option<PathBuf>,
    },
    /// Print a shell completion script (`calcbook completions bash > …`).
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum PreprocessQuery {
    /// Exit 0 if the preprocessor serves mdBook's RENDERER (only `html`), 1 otherwise.
    Supports { renderer: String },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InitIgnore {
    /// No .gitignore.
    None,
    /// A .gitignore holding the build folder.
    Git,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CheckFormat {
    /// A claims table, then diagnostics with source excerpts, then a total.
    Text,
    /// A stable JSON document (schema/check.schema.json).
    Json,
    /// JUnit XML: one test case per claim, one suite per chapter.
    Junit,
    /// GitHub Actions workflow annotations, then the total.
    Github,
}

/// `calcbook eval [DIR] EXPR`: the value, then the data figures it came from.
fn eval(args: &[String], chapter: Option<&Path>) -> ExitCode {
    let (dir, expr) = match args {
        [expr] => (Path::new("."), expr.as_str()),
        [dir, expr, ..] => (Path::new(dir.as_str()), expr.as_str()),
        [] => return ExitCode::from(2),
    };
    match calcbook::explore::eval_in_book(dir, chapter, expr) {
        Ok(v) => {
            println!("{}", v.display);
            for f in &v.from {
                println!("  from {f}");
            }
            ExitCode::SUCCESS
        }
        Err((diags, sources)) => report(&diags, &sources),
    }
}

/// Output into a closed pipe (`calcbook check | head -1`) ends the process quietly, as it does for
/// other command-line tools, rather than panicking in `println!`. Not for `serve`, whose server
/// must outlive a browser that closes its connection mid-answer.
fn exit_quietly_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default action of one signal, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        exit_quietly_on_broken_pipe();
    }
    match cli.command {
        Command::Build {
            dir,
            dest_dir,
            open,
        } => {
            let code = build(&dir, dest_dir.as_deref());
            if open && code == ExitCode::SUCCESS {
                open_built_book(&dir, dest_dir.as_deref());
            }
            code
        }
        Command::Check {
            dir,
            format,
            deny_warnings,
        } => check(&dir, format, deny_warnings),
        Command::Serve {
            dir,
            port,
            hostname,
            allow_host,
            dest_dir,
            open,
        } => match resolve_host(&hostname) {
            Some(bind) => {
                let mut allow_hosts = allow_host;
                // A name given to --hostname is one this server answers to.
                if hostname.parse::<std::net::IpAddr>().is_err() {
                    allow_hosts.push(hostname.clone());
                }
                serve(calcbook::serve::Options {
                    root: dir,
                    dest: dest_dir,
                    bind,
                    allow_hosts,
                    port,
                    open,
                    color: use_color(),
                })
            }
            None => {
                eprintln!("error: cannot resolve the host name `{hostname}`");
                ExitCode::from(2)
            }
        },
        Command::Preprocess { query } => preprocess(query),
        Command::Eval { args, chapter } => eval(&args, chapter.as_deref()),
        Command::Clean { dir, dest_dir } => clean(&dir, dest_dir.as_deref()),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "calcbook",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Init { dir, title, ignore } => {
            match calcbook::init::init_with(&dir, title.as_deref(), ignore == InitIgnore::Git) {
                Ok(files) => {
                    for f in files {
                        eprintln!("created {}", dir.join(f).display());
                    }
                    eprintln!(
                        "build it with `calcbook build {}`, or preview it with `calcbook serve {}`",
                        dir.display(),
                        dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(d) => report(&[d], &Sources::new()),
            }
        }
    }
}

fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Prints diagnostics to stderr; returns exit code 1 if any is an error.
fn report(diags: &[Diagnostic], sources: &Sources) -> ExitCode {
    if !diags.is_empty() {
        eprint!("{}", diagnostic::render(diags, sources, use_color()));
    }
    if diags.iter().any(Diagnostic::is_error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn build(dir: &Path, dest: Option<&Path>) -> ExitCode {
    let started = std::time::Instant::now();
    // Each file goes into the staging folder as soon as it is rendered; the folder is swapped in
    // below only if the book has no errors, and removed otherwise (when `staging` is dropped).
    let open = |book: &calcbook::book::Book| {
        let dest = calcbook::destination(dir, book, dest);
        calcbook::output::Staging::begin(&dest, &calcbook::protected_paths(book))
    };
    let (mut rendered, evaluated, staging) =
        match calcbook::render_book_into(dir, &calcbook::RenderOptions::default(), open) {
            Ok(r) => r,
            Err(d) => return report(&[d], &Sources::new()),
        };
    if rendered.book.config.calcbook.strict_links {
        calcbook::links_as_errors(&mut rendered.diagnostics);
    }
    // A failing claim is rendered honestly (a red box) and reported; `check` is what fails CI.
    let failing: Vec<_> = evaluated
        .claims
        .iter()
        .filter(|c| !c.holds && c.not_evaluated.is_none())
        .map(|c| c.as_warning(rendered.sources()))
        .collect();
    rendered.diagnostics.extend(failing);
    let code = report(&rendered.diagnostics, rendered.sources());
    let errors = rendered.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = rendered.diagnostics.len() - errors;
    let dest = calcbook::destination(dir, &rendered.book, dest);
    if errors > 0 {
        // Only a folder that holds a book is "previous output"; say what really happened.
        let kept = if dest.join("index.html").is_file() {
            "the previous output was left as it was"
        } else {
            "nothing was written"
        };
        eprintln!(
            "error: the book has {errors} error{} ({warnings} warning{}); {kept}",
            plural(errors),
            plural(warnings)
        );
        return code;
    }
    if let Err(e) = staging.and_then(calcbook::output::Staging::commit) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    eprintln!(
        "wrote {} chapter{} to {} in {:.0?}{}",
        rendered.book.chapters.len(),
        plural(rendered.book.chapters.len()),
        dest.join("index.html").display(),
        started.elapsed(),
        if warnings > 0 {
            format!(" ({warnings} warning{})", plural(warnings))
        } else {
            String::new()
        }
    );
    ExitCode::SUCCESS
}

/// `localhost` and other names as mdBook takes them; an address as it is.
fn resolve_host(hostname: &str) -> Option<std::net::IpAddr> {
    use std::net::ToSocketAddrs;
    if let Ok(ip) = hostname.parse() {
        return Some(ip);
    }
    let addrs: Vec<_> = (hostname, 0).to_socket_addrs().ok()?.collect();
    // Prefer IPv4, which `localhost` URLs reach everywhere.
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .map(|a| a.ip())
}

fn open_built_book(dir: &Path, dest: Option<&Path>) {
    let out = match calcbook::book::load(dir) {
        Ok(book) => calcbook::destination(dir, &book, dest),
        Err(_) => return,
    };
    let index = calcbook::output::absolute(&out.join("index.html"));
    calcbook::serve::open_browser(&format!("file://{}", index.display()));
}

/// `calcbook clean`: deletes the output folder, never the book's own folders.
fn clean(dir: &Path, dest: Option<&Path>) -> ExitCode {
    let book = match calcbook::book::load(dir) {
        Ok(book) => book,
        Err(d) => return report(&[d], &Sources::new()),
    };
    if book.diagnostics.iter().any(|d| d.code == Code::NoBook) {
        return report(&book.diagnostics, &book.sources);
    }
    let out = calcbook::output::absolute(&calcbook::destination(dir, &book, dest));
    let protected = calcbook::protected_paths(&book);
    if protected
        .iter()
        .any(|p| calcbook::output::absolute(p).starts_with(&out))
    {
        eprintln!(
            "error: refusing to delete {}: it holds the book's sources",
            out.display()
        );
        return ExitCode::from(1);
    }
    match std::fs::remove_dir_all(&out) {
        Ok(()) => {
            eprintln!("removed {}", out.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("nothing to clean: {} does not exist", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot delete {}: {e}", out.display());
            ExitCode::from(1)
        }
    }
}

fn serve(options: calcbook::serve::Options) -> ExitCode {
    match calcbook::serve::serve(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(calcbook::serve::ServeError::Book(d)) => report(&[d], &Sources::new()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// mdBook's preprocessor protocol; diagnostics go to stderr, which mdBook shows as they are.
fn preprocess(query: Option<PreprocessQuery>) -> ExitCode {
    if let Some(PreprocessQuery::Supports { renderer }) = query {
        return if calcbook::preprocess::supports(&renderer) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let outcome = match calcbook::preprocess::run_json(std::io::stdin().lock()) {
        Ok(outcome) => outcome,
        Err(d) => return report(&[d], &Sources::new()),
    };
    let code = report(&outcome.diagnostics, &outcome.sources);
    if outcome.has_errors() {
        eprintln!("error: calcbook found errors in the book; mdBook stops here");
        return code;
    }
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, &outcome.book) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the book to standard output: {e}");
            ExitCode::from(1)
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn check(dir: &Path, format: CheckFormat, deny_warnings: bool) -> ExitCode {
    use calcbook::check::{Format, Report};
    // Evaluated, not rendered: no page is drawn to find what is wrong.
    let mut checked = match calcbook::evaluate_book(dir) {
        Ok(c) => c,
        Err(d) => return report(&[d], &Sources::new()),
    };
    calcbook::links_as_errors(&mut checked.diagnostics);
    let report = Report {
        claims: &checked.claims,
        diagnostics: &checked.diagnostics,
        sources: &checked.book.sources,
        deny_warnings,
    };
    let format = match format {
        CheckFormat::Text => Format::Text,
        CheckFormat::Json => Format::Json,
        CheckFormat::Junit => Format::Junit,
        CheckFormat::Github => Format::Github,
    };
    let color = format == Format::Text
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    print!("{}", report.render(format, color));
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

//! The `calcbook` command line: parses arguments and calls the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use calcbook::diagnostic::{self, Diagnostic, Sources};

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
        /// Address to listen on. The default serves this machine only; `0.0.0.0` serves the
        /// whole network.
        #[arg(short, long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Output folder kept in step with the served book [default: the book's build-dir].
        #[arg(short = 'd', long)]
        dest_dir: Option<PathBuf>,
        /// Open the book in a web browser.
        #[arg(short, long)]
        open: bool,
    },
    /// Create a new book with a starter chapter.
    Init {
        /// Folder to create the book in.
        dir: PathBuf,
    },
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build { dir, dest_dir } => build(&dir, dest_dir.as_deref()),
        Command::Check {
            dir,
            format,
            deny_warnings,
        } => check(&dir, format, deny_warnings),
        Command::Serve {
            dir,
            port,
            bind,
            dest_dir,
            open,
        } => serve(calcbook::serve::Options {
            root: dir,
            dest: dest_dir,
            bind,
            port,
            open,
            color: use_color(),
        }),
        Command::Init { dir } => match calcbook::init::init(&dir) {
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
        },
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
    let (mut rendered, evaluated) =
        match calcbook::render_book_with(dir, &calcbook::RenderOptions::default()) {
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
        .filter(|c| !c.holds)
        .map(|c| c.as_warning(rendered.sources()))
        .collect();
    rendered.diagnostics.extend(failing);
    let code = report(&rendered.diagnostics, rendered.sources());
    let errors = rendered.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = rendered.diagnostics.len() - errors;
    if errors > 0 {
        eprintln!(
            "error: the book has {errors} error{} ({warnings} warning{}); the previous output was left as it was",
            plural(errors),
            plural(warnings)
        );
        return code;
    }
    let dest = calcbook::destination(dir, &rendered.book, dest);
    let protected = calcbook::protected_paths(&rendered.book);
    if let Err(e) = calcbook::output::write_site(&rendered.site, &dest, &protected) {
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn check(dir: &Path, format: CheckFormat, deny_warnings: bool) -> ExitCode {
    use calcbook::check::{Format, Report};
    let (mut rendered, evaluated) =
        match calcbook::render_book_with(dir, &calcbook::RenderOptions::default()) {
            Ok(r) => r,
            Err(d) => return report(&[d], &Sources::new()),
        };
    calcbook::links_as_errors(&mut rendered.diagnostics);
    let report = Report {
        claims: &evaluated.claims,
        diagnostics: &rendered.diagnostics,
        sources: rendered.sources(),
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

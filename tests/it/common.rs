//! Helpers for end-to-end tests: small books in temporary folders, built with the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestBook {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn calcbook() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calcbook"));
    cmd.env("NO_COLOR", "1");
    cmd
}

impl TestBook {
    /// A book with `book.toml` (title "Test") and the given files (paths relative to the root).
    pub fn new(files: &[(&str, &str)]) -> TestBook {
        let book = TestBook {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        if !files.iter().any(|(p, _)| *p == "book.toml") {
            book.write("book.toml", "[book]\ntitle = \"Test\"\n");
        }
        for (path, text) in files {
            book.write(path, text);
        }
        book
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        self.write_bytes(rel, text.as_bytes());
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    pub fn build(&self) -> Run {
        calcbook()
            .arg("build")
            .arg(self.root())
            .output()
            .expect("run calcbook")
            .into()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        calcbook()
            .args(args)
            .current_dir(self.root())
            .output()
            .expect("run calcbook")
            .into()
    }

    pub fn out(&self, rel: &str) -> PathBuf {
        self.root().join("book").join(rel)
    }

    #[track_caller]
    pub fn page(&self, rel: &str) -> String {
        std::fs::read_to_string(self.out(rel))
            .unwrap_or_else(|e| panic!("cannot read output {rel}: {e}"))
    }

    /// The output path of a default theme asset under its fingerprinted name
    /// (`calcbook.css` → `assets/calcbook-3f2a9c1e.css`).
    pub fn asset(&self, name: &str) -> String {
        let (stem, ext) = name.rsplit_once('.').unwrap();
        let found = std::fs::read_dir(self.out("assets"))
            .expect("an assets folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|f| {
                f.strip_prefix(stem)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .and_then(|rest| rest.strip_suffix(ext))
                    .is_some_and(|hash| hash.len() == 9 && hash.ends_with('.'))
            })
            .unwrap_or_else(|| panic!("no fingerprinted {name} in assets/"));
        format!("assets/{found}")
    }
}

/// The prelude a chapter of the bundled book starts from: the engine's bindings, then the
/// repository's `data/`, loaded and linked as a build does (no diagnostics allowed).
pub fn repo_prelude() -> calcbook::calc::Scope {
    let mut scope = calcbook::calc::Scope::new();
    calcbook::engine::bindings::register(&mut scope);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut sources = calcbook::Sources::new();
    let (mut files, mut diags) =
        calcbook::notebook::data::load(&dir, Path::new("data"), &mut scope, &mut sources);
    diags.extend(calcbook::engine::link::link_records(
        &mut scope, &mut files, &sources,
    ));
    assert!(diags.is_empty(), "data diagnostics: {diags:#?}");
    scope
}

//! One rebuild: render the book in memory, compare it with the site being served, and say what
//! changed or what is wrong.
//!
//! Every rebuild renders the whole book with [`crate::render_book`], the same function `build`
//! uses, so what `serve` shows can never drift from what `build` writes. What is incremental is
//! everything after it: only changed files are pushed, written and reloaded.
//!
//! The render itself is incremental through [`crate::RenderCache`]: a chapter file unchanged on
//! disk is not read again (its text moves back into the cache after each rebuild); a chapter whose
//! text, place in the book and data prelude are unchanged reuses its evaluated, rendered Markdown;
//! the data files and the templates are loaded again only when one of them changes; a page whose inputs (content, title,
//! neighbours, theme) are unchanged is not templated again. Pages do not carry the sidebar (it is
//! `toc.js`), so a save templates the saved chapter's page; a title change, `toc.js`, `toc.html`
//! and the neighbouring pages. The print page and the search index are spliced from cached parts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::diff::{Changes, diff};
use super::events::ErrorReport;
use super::mirror;
use super::watch::Scope;
use crate::diagnostic::{self, Diagnostic, Sources};
use crate::output::absolute;
use crate::render::Site;
use crate::{RenderCache, RenderOptions, WholeBook, render_book_cached};

/// Output files that hold the whole book, left for later renders after a save.
const SEARCH_INDEX: &str = "searchindex.js";
const PRINT_PAGE: &str = "print.html";

/// The result of one rebuild.
pub enum Outcome {
    /// The book built and its output changed.
    Updated { site: Arc<Site>, changes: Changes },
    /// The book built and nothing changed (a save without edits, an undone error).
    Unchanged,
    /// The book has errors. `site` is what it rendered, offered only when no build ever succeeded,
    /// so there is something to show under the error overlay.
    Failed {
        errors: Vec<ErrorReport>,
        site: Option<Arc<Site>>,
    },
}

/// One rebuild, with what to tell the terminal.
pub struct Build {
    pub outcome: Outcome,
    /// Diagnostics rendered for the terminal (errors, and warnings when they changed).
    pub report: String,
    pub elapsed: Duration,
    /// The render's stages and the comparison with the served site.
    pub timings: crate::pipeline::Timings,
}

/// Renders the book again and again, remembering the last good site.
pub struct Builder {
    root: PathBuf,
    dest: Option<PathBuf>,
    color: bool,
    /// The site being served, and whether it came from a good build.
    served: Option<(Arc<Site>, bool)>,
    /// The output folder and what it holds, once mirrored.
    mirrored: Option<(PathBuf, Arc<Site>)>,
    scope: Option<Scope>,
    output: Option<(PathBuf, Vec<PathBuf>)>,
    warnings: String,
    /// The chapter files, `SUMMARY.md` and `book.toml` as the last build that loaded the book read
    /// them (absolute paths): a save that removed one still names it in the log.
    read: std::collections::HashSet<PathBuf>,
    /// Chapters and the data prelude from earlier rebuilds: an edit re-evaluates only what it
    /// touched.
    cache: RenderCache,
}

impl Builder {
    /// `root` should be absolute (canonical), so that watched paths compare equal to it.
    pub fn new(root: PathBuf, dest: Option<PathBuf>, color: bool) -> Builder {
        Builder {
            root,
            dest,
            color,
            served: None,
            mirrored: None,
            scope: None,
            output: None,
            cache: RenderCache::for_rebuilds(),
            warnings: String::new(),
            read: Default::default(),
        }
    }

    /// The folders to watch, as the last build that could read `book.toml` found them.
    pub fn scope(&self) -> Scope {
        self.scope.clone().unwrap_or_else(|| Scope {
            root: self.root.clone(),
            folders: Vec::new(),
            output: absolute(&self.dest.clone().unwrap_or_else(|| self.root.join("book"))),
        })
    }

    /// Whether the last build that loaded the book read `path` (absolute).
    pub fn read_last_time(&self, path: &Path) -> bool {
        self.read.contains(path)
    }

    /// Renders the whole book, as `build` does.
    pub fn build(&mut self) -> Build {
        self.build_with(WholeBook::Both)
    }

    /// Renders the book but for the files that hold the whole book (the print page, the search
    /// index), which keep what the site being served has: what answers a save, before
    /// [`Builder::build_whole_book_file`] makes those two.
    pub fn build_pages(&mut self) -> Build {
        match self.served {
            None => self.build_with(WholeBook::Both),
            Some(_) => self.build_with(WholeBook::Neither),
        }
    }

    /// Renders the book making one of the whole-book files (`SearchIndex` or `PrintPage`); the
    /// other keeps what the site being served has. Once the new site is served, the old file's
    /// copy is freed before the next one is made.
    pub fn build_whole_book_file(&mut self, which: WholeBook) -> Build {
        self.build_with(which)
    }

    fn build_with(&mut self, whole_book: WholeBook) -> Build {
        let started = Instant::now();
        let options = RenderOptions {
            live_reload: true,
            whole_book,
        };
        let mut rendered = match render_book_cached(&self.root, &options, &mut self.cache) {
            Ok((r, _)) => r,
            Err(d) => {
                let sources = Sources::new();
                return self.failed(&[d], &sources, None, started);
            }
        };
        // As `build`: broken links inside the book are errors only where book.toml says so.
        if rendered.book.config.calcbook.strict_links {
            crate::links_as_errors(&mut rendered.diagnostics);
        }
        let book = &rendered.book;
        let src = self.root.join(&book.config.book.src);
        self.read = (book.chapters.iter())
            .map(|c| self.root.join(&c.source))
            .chain([src.join("SUMMARY.md"), self.root.join("book.toml")])
            .collect();
        let dest = crate::destination(&self.root, book, self.dest.as_deref());
        let rel = |p: &Path| absolute(&self.root.join(p));
        self.scope = Some(Scope {
            root: self.root.clone(),
            folders: vec![
                rel(&book.config.book.src),
                rel(&book.config.calcbook.data),
                rel(&book.config.calcbook.templates),
            ],
            output: absolute(&dest),
        });
        self.output = Some((dest, crate::protected_paths(book)));
        if rendered.has_errors() {
            let site = Arc::new(rendered.site);
            let build = self.failed(&rendered.diagnostics, &book.sources, Some(site), started);
            self.cache.recycle(rendered.book);
            return build;
        }
        let warnings = diagnostic::render(&rendered.diagnostics, &book.sources, self.color);
        let report = if warnings != self.warnings {
            self.warnings = warnings.clone();
            warnings
        } else {
            String::new()
        };
        if let Some((served, _)) = &self.served {
            let kept = [
                (SEARCH_INDEX, !whole_book.makes_search_index()),
                (PRINT_PAGE, !whole_book.makes_print_page()),
            ];
            for (path, _) in kept.into_iter().filter(|(_, kept)| *kept) {
                if let Some(bytes) = served.files.get(path) {
                    rendered.site.add_shared(path, Arc::clone(bytes));
                }
            }
        }
        let site = Arc::new(rendered.site);
        let mut timings = self.cache.timings.clone();
        let outcome = match &self.served {
            Some((old, good)) => {
                let changes = diff(old, &site);
                if changes.is_empty() && *good {
                    Outcome::Unchanged
                } else {
                    Outcome::Updated {
                        site: Arc::clone(&site),
                        changes,
                    }
                }
            }
            None => Outcome::Updated {
                site: Arc::clone(&site),
                changes: Changes::default(),
            },
        };
        self.cache.recycle(rendered.book);
        timings.lap("diff");
        if matches!(outcome, Outcome::Updated { .. }) {
            self.served = Some((site, true));
        } else if let Some((_, good)) = &mut self.served {
            *good = true;
        }
        Build {
            outcome,
            report,
            elapsed: started.elapsed(),
            timings,
        }
    }

    fn failed(
        &mut self,
        diags: &[Diagnostic],
        sources: &Sources,
        site: Option<Arc<Site>>,
        started: Instant,
    ) -> Build {
        let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        let reports = errors
            .iter()
            .map(|d| ErrorReport {
                location: sources
                    .location(d)
                    .or_else(|| d.file.as_ref().map(|f| f.display().to_string()))
                    .unwrap_or_default(),
                message: d.message.clone(),
                text: diagnostic::render(std::slice::from_ref(*d), sources, false),
            })
            .collect();
        // Warnings are reported again once the book builds.
        self.warnings.clear();
        let shown = match (&self.served, site) {
            (None, Some(site)) => {
                self.served = Some((Arc::clone(&site), false));
                Some(site)
            }
            _ => None,
        };
        Build {
            outcome: Outcome::Failed {
                errors: reports,
                site: shown,
            },
            report: diagnostic::render(diags, sources, self.color),
            elapsed: started.elapsed(),
            timings: self.cache.timings.clone(),
        }
    }

    /// Brings the output folder up to date with the site being served, if it came from a good
    /// build. Returns the folder and what was done.
    pub fn mirror(
        &mut self,
    ) -> Result<Option<(PathBuf, mirror::Stats)>, crate::output::WriteError> {
        let (Some((site, true)), Some((dest, protected))) = (&self.served, &self.output) else {
            return Ok(None);
        };
        let (site, dest) = (Arc::clone(site), dest.clone());
        mirror::check_destination(&dest, protected)?;
        let old = match self.mirrored.take() {
            Some((d, s)) if d == dest => Some(s),
            _ => None,
        };
        // On an error `mirrored` stays empty: the folder is half done, so the next pass compares
        // with the disk.
        let stats = mirror::sync(&dest, old.as_deref(), &site)?;
        self.mirrored = Some((dest.clone(), site));
        Ok(Some((dest, stats)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_save_is_answered_first_without_the_whole_book_files_then_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "book.toml", "[book]\ntitle = \"T\"\n");
        write(&root, "src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n");
        write(&root, "src/a.md", "# A\n\nFirst.\n");
        write(&root, "src/b.md", "# B\n\nSecond.\n");
        let mut builder = Builder::new(root.clone(), None, false);
        assert!(matches!(
            builder.build_pages().outcome,
            Outcome::Updated { .. }
        ));
        builder.mirror().unwrap();
        let out = |rel: &str| std::fs::read_to_string(root.join("book").join(rel)).unwrap();
        assert!(
            out("print.html").contains("First."),
            "the first build is whole"
        );

        write(&root, "src/a.md", "# A\n\nFirst, edited.\n");
        let Outcome::Updated { changes, .. } = builder.build_pages().outcome else {
            panic!("the edit changed nothing");
        };
        // The first chapter is the landing page too.
        assert_eq!(
            changes.pages.keys().collect::<Vec<_>>(),
            ["a.html", "index.html"]
        );
        assert!(
            changes.files.is_empty() && changes.removed.is_empty(),
            "{changes:?}"
        );
        let (_, stats) = builder.mirror().unwrap().unwrap();
        assert_eq!((stats.written, stats.removed), (2, 0));
        assert!(out("a.html").contains("First, edited."));
        assert!(!out("print.html").contains("First, edited."));

        // The search index, then the print page, each in a render of its own.
        let Outcome::Updated { changes, .. } = builder
            .build_whole_book_file(WholeBook::SearchIndex)
            .outcome
        else {
            panic!("the search index did not change");
        };
        assert!(changes.pages.is_empty(), "{changes:?}");
        assert_eq!(changes.files, ["searchindex.js"]);
        builder.mirror().unwrap();
        assert!(out("searchindex.js").contains("First, edited."));
        assert!(!out("print.html").contains("First, edited."));
        let Outcome::Updated { changes, .. } =
            builder.build_whole_book_file(WholeBook::PrintPage).outcome
        else {
            panic!("the print page did not change");
        };
        assert_eq!(changes.pages.keys().collect::<Vec<_>>(), ["print.html"]);
        assert!(changes.files.is_empty(), "{changes:?}");
        builder.mirror().unwrap();
        assert!(out("print.html").contains("First, edited."));
        assert!(out("searchindex.js").contains("First, edited."));
        assert!(out("b.html").contains("Second."));
        // Nothing is left to make.
        assert!(matches!(builder.build().outcome, Outcome::Unchanged));
    }
}

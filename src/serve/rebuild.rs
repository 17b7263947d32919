//! One rebuild: render the book in memory, compare it with the site being served, and say what
//! changed or what is wrong.
//!
//! Every rebuild renders the whole book with [`crate::render_book`], the same function `build`
//! uses, so what `serve` shows can never drift from what `build` writes. What is incremental is
//! everything after it: only changed files are pushed, written and reloaded.
//!
//! The render itself is incremental through [`crate::RenderCache`]: a chapter whose text, place
//! in the book and data prelude are unchanged reuses its evaluated, rendered Markdown; the data
//! files are loaded again only when one of them changes; a page whose inputs (content, title,
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
use crate::{RenderCache, RenderOptions, render_book_cached};

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
            cache: RenderCache::default(),
            warnings: String::new(),
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

    pub fn build(&mut self) -> Build {
        let started = Instant::now();
        let options = RenderOptions { live_reload: true };
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
            return self.failed(&rendered.diagnostics, &book.sources, Some(site), started);
        }
        let warnings = diagnostic::render(&rendered.diagnostics, &book.sources, self.color);
        let report = if warnings != self.warnings {
            self.warnings = warnings.clone();
            warnings
        } else {
            String::new()
        };
        let site = Arc::new(rendered.site);
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
        if matches!(outcome, Outcome::Updated { .. }) {
            self.served = Some((site, true));
        } else if let Some((_, good)) = &mut self.served {
            *good = true;
        }
        Build {
            outcome,
            report,
            elapsed: started.elapsed(),
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
        }
    }

    /// Brings the output folder up to date with the site being served, if it came from a good
    /// build. Returns the folder and what was done.
    pub fn mirror(
        &mut self,
    ) -> Result<Option<(PathBuf, mirror::Stats)>, crate::output::WriteError> {
        self.mirror_except(&[])
    }

    /// As [`Builder::mirror`], leaving the files named in `later` as they were on disk, so that
    /// what an edit changed is written first; the next call brings them up to date. `serve` keeps
    /// the print page and the search index (each the whole book) for after the update event.
    pub fn mirror_except(
        &mut self,
        later: &[&str],
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
        let target = match &old {
            Some(old) if !later.is_empty() => {
                // The files are shared, so this copies names and pointers, not the book.
                let mut partial = (*site).clone();
                for path in later {
                    match old.files.get(*path) {
                        Some(bytes) => partial.add_shared(*path, Arc::clone(bytes)),
                        None => {
                            partial.files.remove(*path);
                        }
                    }
                }
                Arc::new(partial)
            }
            _ => site,
        };
        // On an error `mirrored` stays empty: the folder is half done, so the next pass compares
        // with the disk.
        let stats = mirror::sync(&dest, old.as_deref(), &target)?;
        self.mirrored = Some((dest.clone(), target));
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
    fn an_edit_s_pages_reach_the_disk_before_the_whole_book_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root, "book.toml", "[book]\ntitle = \"T\"\n");
        write(&root, "src/SUMMARY.md", "- [A](a.md)\n- [B](b.md)\n");
        write(&root, "src/a.md", "# A\n\nFirst.\n");
        write(&root, "src/b.md", "# B\n\nSecond.\n");
        let mut builder = Builder::new(root.clone(), None, false);
        assert!(matches!(builder.build().outcome, Outcome::Updated { .. }));
        builder.mirror().unwrap();
        let out = |rel: &str| std::fs::read_to_string(root.join("book").join(rel)).unwrap();
        assert!(out("print.html").contains("First."));

        write(&root, "src/a.md", "# A\n\nFirst, edited.\n");
        assert!(matches!(builder.build().outcome, Outcome::Updated { .. }));
        let (_, stats) = builder
            .mirror_except(&["print.html", "searchindex.js"])
            .unwrap()
            .unwrap();
        assert_eq!(stats.removed, 0, "the files left for later were removed");
        assert!(out("a.html").contains("First, edited."));
        assert!(!out("print.html").contains("First, edited."));
        assert!(!out("searchindex.js").contains("First, edited."));
        builder.mirror().unwrap();
        assert!(out("print.html").contains("First, edited."));
        assert!(out("searchindex.js").contains("First, edited."));
        assert!(out("b.html").contains("Second."));
    }
}

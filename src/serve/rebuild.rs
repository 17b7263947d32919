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
        let rendered = match render_book_cached(&self.root, &options, &mut self.cache) {
            Ok((r, _)) => r,
            Err(d) => {
                let sources = Sources::new();
                return self.failed(&[d], &sources, None, started);
            }
        };
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

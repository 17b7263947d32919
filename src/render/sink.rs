//! Where an assembled site's files go, each as soon as it is made: into a [`Site`] in memory
//! ([`Collect`]: `serve`, `check`, tests) or, for `build`, straight into the staging folder that
//! [`crate::output::Staging`] swaps in at the end, so that a build never holds the whole site.
//!
//! Pages are templated on several threads and handed over from them, so a sink takes files through
//! a shared reference. A later file at a path replaces an earlier one, as in a [`Site`] (a static
//! file named `index.html` replaces the copy of the first chapter).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::Site;

/// Takes the files of a site as they are made, from any thread.
pub trait SiteSink: Sync {
    /// Takes the file at `path` (relative to the output root, `/`-separated).
    fn put(&self, path: &str, bytes: Arc<Vec<u8>>);
}

/// A sink that could not be opened (an unsafe destination) takes nothing; its error is the
/// caller's to report.
impl<S: SiteSink, E: Sync> SiteSink for Result<S, E> {
    fn put(&self, path: &str, bytes: Arc<Vec<u8>>) {
        if let Ok(sink) = self {
            sink.put(path, bytes);
        }
    }
}

/// Collects the files into a [`Site`] in memory.
#[derive(Default)]
pub struct Collect(Mutex<Site>);

impl Collect {
    pub fn into_site(self) -> Site {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SiteSink for Collect {
    fn put(&self, path: &str, bytes: Arc<Vec<u8>>) {
        let mut site = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        site.add_shared(path, bytes);
    }
}

/// Takes nothing: `check` learns which files a build would write (for links) without their bytes.
pub struct Discard;

impl SiteSink for Discard {
    fn put(&self, _: &str, _: Arc<Vec<u8>>) {}
}

/// A sink and the paths handed to it: assembling asks whether a file is already there (a chapter
/// at `index.html`, a redirect's page, a link to a static file) without reading the sink back.
pub struct Tracked<'s> {
    sink: &'s dyn SiteSink,
    paths: Mutex<HashSet<String>>,
}

impl<'s> Tracked<'s> {
    pub fn new(sink: &'s dyn SiteSink) -> Tracked<'s> {
        Tracked {
            sink,
            paths: Mutex::default(),
        }
    }

    pub fn add(&self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.add_shared(path, Arc::new(bytes.into()));
    }

    pub fn add_shared(&self, path: impl Into<String>, bytes: Arc<Vec<u8>>) {
        let path = path.into();
        self.sink.put(&path, bytes);
        self.paths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path);
    }

    pub fn contains(&self, path: &str) -> bool {
        self.paths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_file_at_a_path_replaces_the_earlier_and_is_tracked() {
        let collect = Collect::default();
        let tracked = Tracked::new(&collect);
        tracked.add("index.html", "first chapter");
        tracked.add("index.html", "static index");
        assert!(tracked.contains("index.html"));
        assert!(!tracked.contains("other.html"));
        assert_eq!(
            collect.into_site().get_str("index.html"),
            Some("static index")
        );
    }
}

//! Rendering chapters to HTML pages.

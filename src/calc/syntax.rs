//! Syntax summary (filled in below).

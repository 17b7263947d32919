//! The evaluation budget of a whole book.
//!
//! Each statement, inline value and chart or table cell has its own step limit
//! ([`super::DEFAULT_STEP_LIMIT`]), so one runaway statement does not starve the ones after it.
//! On top of that, every step of a build counts against one book-wide budget, so that many
//! statements that each stay under their own limit (100,000 table rows near the limit) cannot add
//! up to hours. The budget lives in a thread-local: a book is evaluated on one thread (see
//! [`super::with_big_stack`]), and [`begin`] starts each build afresh.

use std::cell::Cell;

/// Steps a whole book may take by default (book.toml `[calcbook] max-steps`).
pub const DEFAULT_BOOK_STEPS: u64 = 20_000_000;

thread_local! {
    /// (steps taken in this build, the build's limit); no limit until a build begins.
    static BOOK: Cell<(u64, u64)> = const { Cell::new((0, u64::MAX)) };
}

/// Starts a build with a budget of `limit` steps.
pub fn begin(limit: u64) {
    BOOK.with(|b| b.set((0, limit)));
}

/// Counts one step; `Err(limit)` once the book's budget is spent.
pub fn tick() -> Result<(), u64> {
    BOOK.with(|b| {
        let (used, limit) = b.get();
        let used = used.saturating_add(1);
        b.set((used, limit));
        if used > limit { Err(limit) } else { Ok(()) }
    })
}

/// Steps taken in this build so far.
pub fn used() -> u64 {
    BOOK.with(|b| b.get().0)
}

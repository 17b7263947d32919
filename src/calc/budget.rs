//! The evaluation budget of a whole book.
//!
//! Each statement, inline value and chart or table cell has its own step limit
//! ([`super::scope::DEFAULT_STEP_LIMIT`], at most half the book's budget: [`statement_limit`]), so one
//! runaway statement does not starve the ones after it.
//! On top of that, every step of a build counts against one book-wide budget, so that many
//! statements that each stay under their own limit (100,000 table rows near the limit) cannot add
//! up to hours. [`begin`] starts each build afresh with one shared counter; chapters are evaluated
//! in parallel, so each worker thread [`enter`]s the build's budget before it evaluates, and every
//! thread counts against the same total.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Steps a whole book may take by default (book.toml `[calcbook] max-steps`).
pub const DEFAULT_BOOK_STEPS: u64 = 20_000_000;

/// One build's budget, shared by every thread that evaluates for it.
#[derive(Debug)]
pub struct Budget {
    used: AtomicU64,
    limit: u64,
}

thread_local! {
    /// The budget of the build this thread evaluates for; no limit until a build begins.
    static BOOK: RefCell<Option<Arc<Budget>>> = const { RefCell::new(None) };
}

/// Starts a build with a budget of `limit` steps on this thread, and returns it so that other
/// threads can [`enter`] it.
pub fn begin(limit: u64) -> Arc<Budget> {
    let budget = Arc::new(Budget {
        used: AtomicU64::new(0),
        limit,
    });
    enter(Some(Arc::clone(&budget)));
    budget
}

/// The budget this thread counts against, to hand to worker threads.
pub fn current() -> Option<Arc<Budget>> {
    BOOK.with(|b| b.borrow().clone())
}

/// Makes this thread count against `budget` (none: no limit).
pub fn enter(budget: Option<Arc<Budget>>) {
    BOOK.with(|b| *b.borrow_mut() = budget);
}

/// Counts one step; `Err(limit)` once the book's budget is spent.
pub fn tick() -> Result<(), u64> {
    BOOK.with(|b| match &*b.borrow() {
        None => Ok(()),
        Some(budget) => {
            let used = budget
                .used
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1);
            if used > budget.limit {
                Err(budget.limit)
            } else {
                Ok(())
            }
        }
    })
}

/// The most steps one statement may take in this build: its own limit, but never more than half
/// the book's budget, so a runaway statement always leaves steps for the ones after it (a book
/// with `max-steps = 1000000` gives each statement at most 500,000).
pub fn statement_limit(own: u64) -> u64 {
    BOOK.with(|b| {
        b.borrow()
            .as_ref()
            .map_or(own, |budget| own.min(budget.limit / 2))
    })
}

/// Steps taken in this build so far.
pub fn used() -> u64 {
    BOOK.with(|b| {
        b.borrow()
            .as_ref()
            .map_or(0, |budget| budget.used.load(Ordering::Relaxed))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_that_enter_a_budget_spend_it_together() {
        let budget = begin(10);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let shared = current();
                std::thread::spawn(move || {
                    enter(shared);
                    (0..5).filter(|_| tick().is_ok()).count()
                })
            })
            .collect();
        let ok: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(ok, 10);
        assert!(tick().is_err(), "the budget is spent for this thread too");
        assert_eq!(budget.used.load(Ordering::Relaxed), 11);
    }

    #[test]
    fn a_statement_may_spend_at_most_half_the_book() {
        enter(None);
        assert_eq!(statement_limit(10_000_000), 10_000_000);
        let _budget = begin(1_000);
        assert_eq!(statement_limit(10_000_000), 500);
        assert_eq!(statement_limit(100), 100);
        enter(None);
    }
}

//! Cells drawn in an earlier render of a chapter, kept so that a save under `serve` draws only
//! the cells it changed.
//!
//! Drawing a cell (its rows, claim boxes, traced values, a chart's SVG) cost two thirds of the
//! time a save to the bundled book's largest chapter took to evaluate; evaluating it again is
//! cheap. A cell's drawing is a pure function of what the key below holds, so an unchanged cell is
//! still evaluated (a calc block's names feed the cells after it, and its claims the ledger) but
//! its HTML is taken from the memo:
//! - the chapter's context: the prelude, the theme, the Markdown options, the chapter's title,
//!   number and page (the caller's [`CellMemo::for_context`] key);
//! - the chain of every calc block before it, as written: the scope a cell sees (and a block's
//!   traced values, drawn against the scope as the block left it) is the prelude's plus what those
//!   blocks defined. Charts, tables and inline values define nothing, so a chart added or an
//!   inline value edited leaves the chain, and the cells after it, as they were;
//! - the cell itself: its kind, info string and text, and its source in the chapter file as
//!   written (an included file's text, or a block's indentation in a list). Not its place: a
//!   cleanly evaluated cell's drawing names no line of the chapter (only error boxes do, and
//!   those cells are not kept), so lines inserted above it leave it reusable;
//! - the chapter's counters when it starts: blocks, figures, tables, claims and traced values
//!   so far (its numbers and ids).
//!
//! Only a cell that evaluated cleanly is kept: no diagnostic, no failed or skipped statement
//! (those name places in the chapter, and may depend on the book-wide step budget).
//! A render keeps only the cells it drew or reused, so the memo holds one chapter's cells.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

/// One chapter's drawn cells, under their key.
#[derive(Default)]
pub struct CellMemo {
    context: u64,
    cells: HashMap<u128, DrawnCell>,
    /// How many of its cells the render that filled it reused rather than drew.
    pub reused: usize,
}

/// A cell as drawn, with what drawing it added to the chapter.
#[derive(Clone)]
pub struct DrawnCell {
    pub html: Arc<str>,
    /// The ids of its HTML (links may target them).
    pub anchors: Arc<[String]>,
    /// How many traced values it numbered.
    pub traces: usize,
}

impl CellMemo {
    /// The memo for a chapter drawn in `context`: this one, or an empty one when it was kept for
    /// another context.
    pub fn for_context(mut self, context: u64) -> CellMemo {
        if self.context != context {
            self.cells.clear();
            self.context = context;
        }
        self
    }

    /// The cell kept under `key`, moved out.
    pub fn take(&mut self, key: u128) -> Option<DrawnCell> {
        self.cells.remove(&key)
    }

    pub fn put(&mut self, key: u128, cell: DrawnCell) {
        self.cells.insert(key, cell);
    }

    /// An empty memo for the same context, for a render to fill.
    pub fn successor(&self) -> CellMemo {
        CellMemo {
            context: self.context,
            cells: HashMap::new(),
            reused: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// A 128-bit hash built by two fixed-key hashers (fixed so that keys made in one render match
/// those of the next), written to by `Hash` values.
#[derive(Clone)]
pub struct Key(std::hash::DefaultHasher, std::hash::DefaultHasher);

impl Default for Key {
    fn default() -> Self {
        let mut second =
            std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().build_hasher();
        // A different start, so the two halves are independent hashes of the same input.
        0x9e37_79b9_7f4a_7c15_u64.hash(&mut second);
        Key(std::hash::DefaultHasher::new(), second)
    }
}

impl Key {
    pub fn add(&mut self, value: &impl Hash) -> &mut Self {
        value.hash(&mut self.0);
        value.hash(&mut self.1);
        self
    }

    pub fn finish(&self) -> u128 {
        ((self.0.finish() as u128) << 64) | self.1.finish() as u128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_equal_inputs_match_and_of_different_ones_differ() {
        let key = |parts: &[&str]| {
            let mut k = Key::default();
            for p in parts {
                k.add(p);
            }
            k.finish()
        };
        assert_eq!(key(&["calc", "x = 1"]), key(&["calc", "x = 1"]));
        assert_ne!(key(&["calc", "x = 1"]), key(&["calc", "x = 2"]));
        assert_ne!(key(&["calc", "x = 1"]), key(&["x = 1", "calc"]));
        let k = key(&["a"]);
        assert_ne!(
            k >> 64,
            k & u128::from(u64::MAX),
            "the halves are independent"
        );
    }

    #[test]
    fn a_memo_kept_for_another_context_is_emptied() {
        let cell = DrawnCell {
            html: "<p>x</p>".into(),
            anchors: Arc::from(Vec::new()),
            traces: 0,
        };
        let mut memo = CellMemo::default().for_context(1);
        memo.put(7, cell.clone());
        let mut same = memo.for_context(1);
        assert_eq!(same.len(), 1);
        assert!(same.take(7).is_some());
        same.put(7, cell);
        assert!(same.for_context(2).is_empty());
    }
}

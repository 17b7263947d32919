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
//! - what the cell may read ([`Definitions::reads`]): for every word of its text that an earlier
//!   calc statement of the chapter defined, that definition's fingerprint (its statement's text
//!   and, in turn, what that statement read), and for a function, what its body reads where the
//!   cell calls it; and every `unit` and `dimension` declaration so far, which change how any
//!   text reads. Every word counts, quoted or not (a chart's expressions are YAML strings): a
//!   word that is not a name only makes the key stricter. So an edit to one block redraws the
//!   cells that use what it defines, not every cell after it;
//! - the cell itself: its kind, info string and text, and its source in the chapter file as
//!   written (an included file's text, or a block's indentation in a list). Not its place: a
//!   cleanly evaluated cell's drawing names no line of the chapter (only error boxes do, and
//!   those cells are not kept), so lines inserted above it leave it reusable;
//! - the chapter's counters when it starts: blocks, figures, tables, claims and inline values
//!   so far (its numbers and ids; traced values are numbered per cell).
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

/// Each edited chapter's [`CellMemo`], by chapter file: those of the chapters evaluated most
/// recently, within a byte budget (the chapters of the latest save are always kept). An author
/// moving between two chapters keeps both; one who has saved every chapter does not hold the
/// book's drawing twice.
pub struct KeptCells {
    chapters: HashMap<std::path::PathBuf, (u64, CellMemo)>,
    /// Renders that kept cells so far: when each chapter's were kept.
    generation: u64,
    budget: usize,
}

/// How many bytes of drawn cells [`KeptCells`] keeps by default: a chapter or two (the
/// bundled book's largest draws ~400 KB; the chapter being edited is kept whatever its size).
pub const DEFAULT_KEPT_BYTES: usize = 512 << 10;

impl Default for KeptCells {
    fn default() -> Self {
        KeptCells::within(DEFAULT_KEPT_BYTES)
    }
}

impl KeptCells {
    pub fn within(budget: usize) -> Self {
        KeptCells {
            chapters: HashMap::new(),
            generation: 0,
            budget,
        }
    }

    /// The cells kept for the chapter file `source` (none: an empty memo), moved out.
    pub fn take(&mut self, source: &std::path::Path) -> CellMemo {
        (self.chapters.remove(source)).map_or_else(CellMemo::default, |(_, memo)| memo)
    }

    /// Keeps the memos of the chapters a render evaluated, then, newest first, as many chapters
    /// as fit the budget: the chapter being edited always, and of a save that evaluated many (a
    /// template or data edit), only what fits.
    pub fn keep(&mut self, evaluated: Vec<(std::path::PathBuf, CellMemo)>) {
        if evaluated.is_empty() {
            return;
        }
        self.generation += 1;
        for (source, memo) in evaluated {
            self.chapters.insert(source, (self.generation, memo));
        }
        let mut newest_first: Vec<(u64, usize, std::path::PathBuf)> = (self.chapters.iter())
            .map(|(source, (generation, memo))| (*generation, memo.bytes(), source.clone()))
            .collect();
        newest_first.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
        let mut total = 0;
        for (i, (_, bytes, source)) in newest_first.into_iter().enumerate() {
            total += bytes;
            if i > 0 && total > self.budget {
                self.chapters.remove(&source);
            }
        }
    }

    pub fn clear(&mut self) {
        self.chapters.clear();
    }

    /// The chapters whose cells are kept.
    pub fn chapters(&self) -> impl Iterator<Item = &std::path::Path> {
        self.chapters.keys().map(std::path::PathBuf::as_path)
    }
}

/// A cell as drawn, with what drawing it added to the chapter.
#[derive(Clone)]
pub struct DrawnCell {
    pub html: Arc<str>,
    /// The ids of its HTML (links may target them).
    pub anchors: Arc<[String]>,
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

    /// The bytes its cells' HTML and ids take.
    pub fn bytes(&self) -> usize {
        (self.cells.values())
            .map(|c| c.html.len() + c.anchors.iter().map(String::len).sum::<usize>())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// What a chapter's calc statements so far defined, by name: what decides the values a cell
/// reads (see the module's doc).
#[derive(Default)]
pub struct Definitions {
    names: HashMap<String, Defined>,
    /// Every `unit` and `dimension` statement so far.
    declarations: Key,
}

struct Defined {
    fingerprint: u128,
    /// For a function, the words of its definition: its body reads globals when it is called.
    function_words: Option<Vec<String>>,
}

impl Definitions {
    /// A fingerprint of what `text` may read: the definitions of its words (and of the words
    /// of the functions among them, and so on) and the declarations so far.
    pub fn reads(&self, text: &str) -> u128 {
        let mut todo: Vec<&str> = words(text).collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(word) = todo.pop() {
            if !seen.insert(word) {
                continue;
            }
            if let Some(words) = self.names.get(word).and_then(|d| d.function_words.as_ref()) {
                todo.extend(words.iter().map(String::as_str));
            }
        }
        let mut key = self.declarations.clone();
        for word in seen {
            if let Some(defined) = self.names.get(word) {
                key.add(&(word, defined.fingerprint));
            }
        }
        key.finish()
    }

    /// Records a calc statement of text `text`, which defines `name` (if any), as evaluated after
    /// the ones recorded before it.
    pub fn record(&mut self, text: &str, name: Option<&str>) {
        let first = words(text).next();
        if matches!(first, Some("unit" | "dimension")) {
            self.declarations.add(&text);
        }
        let Some(name) = name else {
            return;
        };
        let mut fingerprint = Key::default();
        fingerprint.add(&(text, self.reads(text)));
        let function_words = (first == Some("fn")).then(|| words(text).map(String::from).collect());
        let defined = Defined {
            fingerprint: fingerprint.finish(),
            function_words,
        };
        self.names.insert(name.to_string(), defined);
    }
}

/// The words of `text` that may be names: runs of identifier characters, without the digits that
/// may lead them (`2n` reads `n`).
fn words(text: &str) -> impl Iterator<Item = &str> {
    let part_of_word = |c: char| crate::calc::lexer::is_ident_continue(c) || c == 'µ';
    text.split(move |c: char| !part_of_word(c))
        .map(|w| w.trim_start_matches(|c: char| c.is_ascii_digit()))
        .filter(|w| !w.is_empty())
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
    fn a_cell_reads_the_definitions_of_its_words_and_of_the_functions_it_calls() {
        let mut defs = Definitions::default();
        defs.record("bw = 4 TB/s", Some("bw"));
        defs.record("size = 80 GB", Some("size"));
        defs.record("fn read(s) = s / bw", Some("read"));
        let uses_size = defs.reads("y: \"2size\"");
        let calls_read = defs.reads("read(1 GB)");
        let unrelated = defs.reads("z = 3 ms");
        // Another definition of `size` changes what reads it, not what does not.
        defs.record("size = 40 GB", Some("size"));
        assert_ne!(defs.reads("y: \"2size\""), uses_size);
        assert_eq!(defs.reads("read(1 GB)"), calls_read);
        assert_eq!(defs.reads("z = 3 ms"), unrelated);
        // `read` reads `bw` when it is called: a new `bw` changes its callers.
        defs.record("bw = 2 TB/s", Some("bw"));
        assert_ne!(defs.reads("read(1 GB)"), calls_read);
        // A declaration changes how every later text reads.
        let before = defs.reads("z = 3 ms");
        defs.record("unit widget = 2 kg", Some("widget"));
        assert_ne!(defs.reads("z = 3 ms"), before);
        // A name defined from another carries that one's definition.
        defs.record("t = size / bw", Some("t"));
        let t = defs.reads("t");
        defs.record("bw = 1 TB/s", Some("bw"));
        defs.record("t = size / bw", Some("t"));
        assert_ne!(defs.reads("t"), t);
    }

    #[test]
    fn words_are_the_runs_that_may_be_names() {
        let w: Vec<&str> = words("x = 2n + µs_1 * hw.h100[\"bw\"] # note").collect();
        assert_eq!(w, ["x", "n", "µs_1", "hw", "h100", "bw", "note"]);
    }

    fn memo_of(bytes: usize) -> CellMemo {
        let mut memo = CellMemo::default();
        let cell = DrawnCell {
            html: "x".repeat(bytes).into(),
            anchors: Arc::from(Vec::new()),
        };
        memo.put(1, cell);
        memo
    }

    fn kept(cells: &KeptCells) -> Vec<&std::path::Path> {
        let mut chapters: Vec<_> = cells.chapters().collect();
        chapters.sort();
        chapters
    }

    #[test]
    fn kept_cells_are_the_newest_chapters_that_fit_the_budget() {
        use std::path::{Path, PathBuf};
        let mut cells = KeptCells::within(1000);
        cells.keep(vec![(PathBuf::from("a.md"), memo_of(600))]);
        cells.keep(vec![(PathBuf::from("b.md"), memo_of(300))]);
        assert_eq!(kept(&cells), [Path::new("a.md"), Path::new("b.md")]);
        cells.keep(vec![(PathBuf::from("c.md"), memo_of(600))]);
        assert_eq!(
            kept(&cells),
            [Path::new("b.md"), Path::new("c.md")],
            "a.md was oldest"
        );
        // The chapter being edited is kept even alone over the budget.
        cells.keep(vec![(PathBuf::from("big.md"), memo_of(5000))]);
        assert_eq!(kept(&cells), [Path::new("big.md")]);
        // A save that evaluated many chapters keeps only what fits.
        let many = ["d.md", "e.md", "f.md"].map(|c| (PathBuf::from(c), memo_of(400)));
        cells.keep(many.into());
        assert_eq!(kept(&cells), [Path::new("d.md"), Path::new("e.md")]);
        // Taking a chapter's memo moves it out.
        assert_eq!(cells.take(Path::new("d.md")).bytes(), 400);
        assert!(cells.take(Path::new("d.md")).is_empty());
    }

    #[test]
    fn a_memo_kept_for_another_context_is_emptied() {
        let cell = DrawnCell {
            html: "<p>x</p>".into(),
            anchors: Arc::from(Vec::new()),
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

//! Where values came from: the data figures (file, line, entry and field) behind every value.
//!
//! A quantity read from a data file carries the [`Figure`] it was written at; a record read from a
//! data file carries its entry's [`Origin`] (for messages that must point at it). Provenance then
//! flows by *reading*: while a statement evaluates, every value it reads that carries figures is
//! noted in the innermost open [`collect`] frame (a thread-local stack, so the evaluator, the engine's
//! record readers and chart code note without passing anything around), and the value the statement
//! binds is stamped with what was noted. A later statement that reads that name notes the same
//! figures again, so a claim ten definitions downstream still names the data lines it rests on.
//!
//! Arithmetic does not need to merge anything: whatever a computation read, it noted.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use super::value::Value;

/// One figure of a data file: `data/battery.yaml:4 powerwall3.capacity`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Figure {
    /// The data file, relative to the book root.
    pub file: Arc<str>,
    /// 1-based line of the figure.
    pub line: u32,
    /// Entry id and field path (`powerwall3.capacity`).
    pub path: Arc<str>,
}

impl serde::Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Figure", 3)?;
        st.serialize_field("file", &*self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("field", &*self.path)?;
        st.end()
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.file, self.line, self.path)
    }
}

/// The figures a value was computed from, sorted and without repeats; `None` for none.
pub type Prov = Option<Arc<Vec<Figure>>>;

/// Where a data record (an entry) was written, for messages about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    /// 1-based line of the entry's id.
    pub line: u32,
    /// The entry id (`powerwall3`), or its path for a nested record (`powerwall3.hbm`).
    pub id: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

thread_local! {
    static FRAMES: RefCell<Vec<Vec<Figure>>> = const { RefCell::new(Vec::new()) };
    /// The data record a native function's last error is about (see [`blame`]).
    static BLAMED: RefCell<Option<Origin>> = const { RefCell::new(None) };
}

/// Runs `f`, returning what it noted; what it noted is noted in the enclosing frame too.
pub fn collect<R>(f: impl FnOnce() -> R) -> (R, Vec<Figure>) {
    FRAMES.with(|s| s.borrow_mut().push(Vec::new()));
    let r = f();
    let mut noted = FRAMES.with(|s| s.borrow_mut().pop()).unwrap_or_default();
    noted.sort();
    noted.dedup();
    FRAMES.with(|s| {
        if let Some(parent) = s.borrow_mut().last_mut() {
            parent.extend(noted.iter().cloned());
        }
    });
    (r, noted)
}

/// Notes the figures `v` carries (its own, not those inside a record or list) in the open frame.
pub fn note(v: &Value) {
    if let Some(figs) = v.prov() {
        note_figures(figs);
    }
}

/// Notes figures in the open frame, if any.
pub fn note_figures(figs: &[Figure]) {
    if figs.is_empty() {
        return;
    }
    FRAMES.with(|s| {
        if let Some(top) = s.borrow_mut().last_mut() {
            // Bounded: a frame that has seen many figures keeps only distinct ones.
            top.extend(figs.iter().cloned());
            if top.len() > 4096 {
                top.sort();
                top.dedup();
            }
        }
    });
}

/// Records that the error a native function is about to return concerns the data record at
/// `origin`, so the diagnostic can point at the entry.
pub fn blame(origin: Option<&Origin>) {
    BLAMED.with(|b| *b.borrow_mut() = origin.cloned());
}

/// Takes the record [`blame`] named, clearing it.
pub fn take_blame() -> Option<Origin> {
    BLAMED.with(|b| b.borrow_mut().take())
}

/// `figs` as a [`Prov`].
pub fn to_prov(figs: Vec<Figure>) -> Prov {
    (!figs.is_empty()).then(|| Arc::new(figs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(line: u32) -> Figure {
        Figure {
            file: "data/x.yaml".into(),
            line,
            path: "a.b".into(),
        }
    }

    #[test]
    fn nested_frames_pass_what_they_noted_outwards() {
        let q = Value::number(1.0).with_prov(to_prov(vec![fig(3)]));
        let r = Value::number(2.0).with_prov(to_prov(vec![fig(5)]));
        let ((_, inner), outer) = collect(|| {
            note(&q);
            collect(|| note(&r))
        });
        assert_eq!(inner, vec![fig(5)]);
        assert_eq!(outer, vec![fig(3), fig(5)]);
    }

    #[test]
    fn noting_outside_a_frame_is_harmless() {
        note(&Value::number(1.0).with_prov(to_prov(vec![fig(1)])));
        let (_, noted) = collect(|| ());
        assert!(noted.is_empty());
    }
}

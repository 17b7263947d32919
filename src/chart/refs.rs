//! Cross-references: `@fig:id` and `@tbl:id` in prose become links to numbered figures and
//! tables (`<a class="xref" href="#fig-id">Figure 3</a>`). An unknown id is an error that suggests
//! the closest known one.

use std::collections::HashMap;
use std::ops::Range;

use super::escape;
use crate::diagnostic::did_you_mean;

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    Figure,
    Table,
}

impl RefKind {
    fn prefix(self) -> &'static str {
        match self {
            RefKind::Figure => "fig",
            RefKind::Table => "tbl",
        }
    }

    fn word(self) -> &'static str {
        match self {
            RefKind::Figure => "Figure",
            RefKind::Table => "Table",
        }
    }
}

/// A numbered figure or table that prose can refer to: its kind, number and link target
/// (`#fig-step-time`, or `chapter.html#fig-step-time` across pages).
pub type RefTarget = (RefKind, usize, String);

/// Replaces every `@fig:id` / `@tbl:id` in `text` with a link. `targets` is keyed by the author id
/// (`step-time`). Errors carry the byte span of the whole reference in `text`.
pub fn resolve_refs(
    text: &str,
    targets: &HashMap<String, RefTarget>,
) -> Result<String, Vec<(Range<usize>, String)>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut last = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(rel) = text[i..].find('@') {
        let at = i + rel;
        i = at + 1;
        let kind = if text[at + 1..].starts_with("fig:") {
            RefKind::Figure
        } else if text[at + 1..].starts_with("tbl:") {
            RefKind::Table
        } else {
            continue;
        };
        // `user@fig:x` is not a reference.
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue;
        }
        let id_start = at + 5;
        let mut id_end = id_start;
        while id_end < bytes.len()
            && (bytes[id_end].is_ascii_alphanumeric() || matches!(bytes[id_end], b'-' | b'_'))
        {
            id_end += 1;
        }
        // A sentence may end right after the id: `see @fig:a-b.` or `(@fig:x-)`.
        while id_end > id_start && matches!(bytes[id_end - 1], b'-' | b'_') {
            id_end -= 1;
        }
        if id_end == id_start {
            continue;
        }
        let id = &text[id_start..id_end];
        match targets.get(id).filter(|t| t.0 == kind) {
            Some((_, number, href)) => {
                out.push_str(&text[last..at]);
                out.push_str(&format!(
                    "<a class=\"xref\" href=\"{}\">{} {number}</a>",
                    escape(href),
                    kind.word()
                ));
                last = id_end;
            }
            None => {
                let same_kind = targets
                    .iter()
                    .filter(|(_, t)| t.0 == kind)
                    .map(|(k, _)| k.as_str());
                let mut msg = format!(
                    "unknown {} `@{}:{id}`",
                    kind.word().to_lowercase(),
                    kind.prefix()
                );
                if let Some(s) = did_you_mean(id, same_kind) {
                    msg.push_str(&format!("; did you mean `@{}:{s}`?", kind.prefix()));
                } else if let Some((_, t)) = targets.get_key_value(id) {
                    msg.push_str(&format!(
                        "; `{id}` is a {}, write `@{}:{id}`",
                        t.0.word().to_lowercase(),
                        t.0.prefix()
                    ));
                }
                errors.push((at..id_end, msg));
            }
        }
        i = id_end.max(at + 1);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    out.push_str(&text[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> HashMap<String, RefTarget> {
        let mut t = HashMap::new();
        t.insert(
            "step-time".to_string(),
            (RefKind::Figure, 2, "#fig-step-time".to_string()),
        );
        t.insert(
            "chips".to_string(),
            (RefKind::Table, 1, "#tbl-chips".to_string()),
        );
        t
    }

    #[test]
    fn links_figures_and_tables() {
        let out = resolve_refs(
            "See @fig:step-time. Also @tbl:chips, mail a@fig:x.",
            &targets(),
        )
        .unwrap();
        assert_eq!(
            out,
            "See <a class=\"xref\" href=\"#fig-step-time\">Figure 2</a>. Also \
             <a class=\"xref\" href=\"#tbl-chips\">Table 1</a>, mail a@fig:x."
        );
    }

    #[test]
    fn unknown_id_suggests() {
        let err = resolve_refs("as @fig:step-tim shows", &targets()).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].0, 3..16);
        assert!(
            err[0].1.contains("did you mean `@fig:step-time`?"),
            "{}",
            err[0].1
        );
        let err = resolve_refs("@fig:chips", &targets()).unwrap_err();
        assert!(err[0].1.contains("is a table"), "{}", err[0].1);
    }
}

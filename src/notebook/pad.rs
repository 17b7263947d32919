//! The calculator pad a `calc` block renders as: one row per statement, its source lines kept
//! together as written (hand-aligned continuation lines stay one unit, never split by a value), a
//! trailing comment as a note at the column it was written, and the value at the right edge, or
//! under the source when the line has no room for it. A record value (an engine result such as
//! `decode(...)`) is shown as an aligned field list: name, value, unit.
//!
//! The pad only lays out HTML it is given (highlighted source, traced values) into views that the
//! theme's `pad_row.html` and `record.html` draw; evaluating the block and tracing its values is
//! [`super::cells`]'s.

use crate::calc::{Record, Registry, Value, format};

/// One statement (or a comment or blank line) of a pad.
pub struct PadRow<'a> {
    /// The highlighted source lines of the statement, in order.
    pub lines: &'a [String],
    /// The same lines as written, to find where a trailing comment starts.
    pub raw: &'a [&'a str],
    /// The statement failed.
    pub error: bool,
    /// The value shown beside it (`= …`, already HTML), if any.
    pub out: Option<String>,
    /// The data figures behind the value, for its hover title (`— from data/x.yaml:3 (…)`).
    pub from: String,
    /// A record value's field list (already HTML), shown under the statement.
    pub record: Option<String>,
}

/// What a statement's row shows, ready for a template: its source lines as HTML (long dotted
/// paths free to break after a dot), the last line's trailing comment as a note with the column
/// it was written at, the value and the record field list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowView {
    pub error: bool,
    pub lines: Vec<String>,
    pub note: Option<String>,
    /// Where the note starts, less the 2ch gap before it: the source keeps at least this width,
    /// so notes written aligned stay aligned wherever the line is wide enough to hold them.
    pub note_col: Option<usize>,
    pub out: Option<String>,
    /// The hover title of the value: the data figures behind it.
    pub title: String,
    pub record: Option<String>,
}

/// A statement's row as a [`RowView`].
pub fn row_view(row: &PadRow) -> RowView {
    let last = row.lines.len().saturating_sub(1);
    let mut view = RowView {
        error: row.error,
        lines: Vec::new(),
        note: None,
        note_col: None,
        out: row.out.clone(),
        title: row.from.trim_start().to_string(),
        record: row.record.clone(),
    };
    for (i, line) in row.lines.iter().enumerate() {
        let raw = row.raw.get(i).copied().unwrap_or("");
        let (src, trailing) = if i == last {
            split_note(line, raw)
        } else {
            (line.clone(), None)
        };
        if let Some((html, column)) = trailing {
            view.note = Some(html);
            view.note_col = Some(column.saturating_sub(2));
        }
        view.lines.push(if src.is_empty() {
            " ".to_string()
        } else {
            break_after_dots(&src)
        });
    }
    view
}

/// Splits a highlighted line at its trailing comment: the code before it, and the comment with
/// the column (in characters) it starts at in the source. A line that is only a comment keeps it.
pub fn split_note(html: &str, raw: &str) -> (String, Option<(String, usize)>) {
    const COMMENT: &str = "<span class=\"cb-com\">";
    let Some(at) = html.find(COMMENT) else {
        return (html.to_string(), None);
    };
    let code = html[..at].trim_end();
    if strip_tags(code).trim().is_empty() {
        return (html.to_string(), None);
    }
    let column = comment_column(raw).unwrap_or_else(|| strip_tags(code).chars().count() + 2);
    (code.to_string(), Some((html[at..].to_string(), column)))
}

/// The character column of `#` starting a comment outside any string.
fn comment_column(raw: &str) -> Option<usize> {
    let mut in_str = false;
    for (col, c) in raw.chars().enumerate() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return Some(col),
            _ => {}
        }
    }
    None
}

/// The text of HTML with its tags removed and entities counted as one character each.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut in_entity = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '&' => {
                in_entity = true;
                out.push('&');
            }
            ';' if in_entity => in_entity = false,
            _ if in_entity => {}
            _ => out.push(c),
        }
    }
    out
}

/// Lets a narrow screen break a long dotted path (`models.deepseek_v3.attention.kv_lora_rank`)
/// after a dot instead of inside a name: a `<wbr>` after every `.` that joins two names. A dot in
/// a number (`3.35`) is left alone.
pub fn break_after_dots(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut in_tag = false;
    let chars: Vec<char> = html.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '.' if !in_tag => {
                let before = word_before(&chars[..i]);
                let after = next_text_char(&chars[i + 1..]);
                let name_before = before
                    .chars()
                    .next()
                    .is_some_and(|b| b.is_alphabetic() || b == '_');
                let name_after = after.is_some_and(|a| a.is_alphabetic() || a == '_');
                if name_before && name_after {
                    out.push_str("<wbr>");
                }
            }
            _ => {}
        }
    }
    out
}

/// The word (letters, digits, `_`) of text that ends at position, skipping tags.
fn word_before(chars: &[char]) -> String {
    let mut in_tag = false;
    let mut word = Vec::new();
    for &c in chars.iter().rev() {
        match c {
            '>' => in_tag = true,
            '<' => in_tag = false,
            _ if in_tag => {}
            c if c.is_alphanumeric() || c == '_' => word.push(c),
            _ => break,
        }
    }
    word.iter().rev().collect()
}

/// The first character of text after position, skipping tags.
fn next_text_char(chars: &[char]) -> Option<char> {
    let mut in_tag = false;
    for &c in chars {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if in_tag => {}
            _ => return Some(c),
        }
    }
    None
}

/// One field of a record value as the pad lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordField {
    pub name: String,
    /// The number as shown (`5,500`), or the whole value when it is not a quantity.
    pub value: String,
    /// The unit as shown (`tokens/s`), empty for plain numbers and text.
    pub unit: String,
    /// Not a number: text, a list, a nested record (reads from the left and may wrap).
    pub text: bool,
}

/// A record's fields, each split into name, value and unit.
pub fn record_fields(record: &Record, reg: &Registry) -> Vec<RecordField> {
    record
        .fields
        .iter()
        .map(|(name, value)| {
            let shown = format::format_value(value, reg);
            let (value, unit, text) = match value {
                Value::Quantity { .. } => {
                    let (n, u) = split_unit(&shown);
                    (n, u, false)
                }
                _ => (shown, String::new(), true),
            };
            RecordField {
                name: name.clone(),
                value,
                unit,
                text,
            }
        })
        .collect()
}

/// A shown quantity as its number and its unit: `1.13 ms` → (`1.13`, `ms`), `$1.19/Mtok` →
/// (`$1.19`, `/Mtok`), `5,500 tokens/s` → (`5,500`, `tokens/s`); a count word stays with its
/// number (`671 billion`) and a plain number has no unit.
pub fn split_unit(shown: &str) -> (String, String) {
    if let Some(rest) = shown.strip_prefix('$').or_else(|| shown.strip_prefix("-$"))
        && let Some(slash) = rest.find('/')
    {
        let cut = shown.len() - rest.len() + slash;
        return (shown[..cut].to_string(), shown[cut..].to_string());
    }
    match shown.rsplit_once(' ') {
        Some((number, unit))
            if !unit.chars().any(|c| c.is_ascii_digit())
                && !["billion", "million", "trillion"].contains(&unit) =>
        {
            (number.to_string(), unit.to_string())
        }
        _ if shown.ends_with('%') => (shown[..shown.len() - 1].to_string(), "%".to_string()),
        _ => (shown.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_comment_becomes_a_note_at_its_written_column() {
        let raw = "gpus = 64      # the rack";
        let html = "<span class=\"cb-name\">gpus</span> = 64      <span class=\"cb-com\"># the rack</span>";
        let (code, note) = split_note(html, raw);
        assert_eq!(code, "<span class=\"cb-name\">gpus</span> = 64");
        let (note, column) = note.expect("a trailing comment");
        assert!(note.contains("# the rack"));
        assert_eq!(column, 15);
        // A comment line stays a comment line; a `#` inside a string is no comment.
        assert!(
            split_note("<span class=\"cb-com\"># only</span>", "# only")
                .1
                .is_none()
        );
        assert_eq!(comment_column(r##"x = "a#b" # c"##), Some(10));
    }

    #[test]
    fn dotted_paths_may_break_after_their_dots_but_numbers_may_not() {
        assert_eq!(
            break_after_dots("<span>models</span>.<span>v3</span>.flops * 3.35"),
            "<span>models</span>.<wbr><span>v3</span>.<wbr>flops * 3.35"
        );
        assert_eq!(break_after_dots("x = 1.5e3"), "x = 1.5e3");
    }

    #[test]
    fn a_shown_quantity_splits_into_number_and_unit() {
        assert_eq!(split_unit("1.13 ms"), ("1.13".into(), "ms".into()));
        assert_eq!(split_unit("$1.19/Mtok"), ("$1.19".into(), "/Mtok".into()));
        assert_eq!(
            split_unit("5,500 tokens/s"),
            ("5,500".into(), "tokens/s".into())
        );
        assert_eq!(split_unit("671 billion"), ("671 billion".into(), "".into()));
        assert_eq!(split_unit("0.0973"), ("0.0973".into(), "".into()));
        assert_eq!(split_unit("0.339%"), ("0.339".into(), "%".into()));
    }

    #[test]
    fn a_record_lists_each_field_in_name_value_unit_columns() {
        let reg = Registry::prelude();
        let ms = reg.parse_unit("ms").unwrap();
        let Value::Record(r) = Value::record([
            ("step_time", Value::quantity(0.0116, ms.1)),
            ("bound", Value::string("kv")),
        ]) else {
            unreachable!()
        };
        let mut ctx = tera::Context::new();
        ctx.insert("fields", &record_fields(&r, &reg));
        let theme = crate::render::Theme::builtin().unwrap();
        let html = theme.render("record.html", &ctx).unwrap();
        assert!(html.contains("<th scope=\"row\">step_<wbr>time</th><td class=\"calc-record-value\">11.6</td><td class=\"calc-record-unit\">ms</td>"), "{html}");
        assert!(
            html.contains(
                "<th scope=\"row\">bound</th><td class=\"calc-record-value calc-record-text\">kv</td>"
            ),
            "{html}"
        );
    }
}

//! Syntax highlighting of calc source for the HTML book: the text HTML-escaped, with tokens
//! wrapped in `<span class="cb-…">` (`cb-kw` keywords, `cb-num` numbers, `cb-unit` units,
//! `cb-str` strings, `cb-com` comments, `cb-op` operators, `cb-fn` called names, `cb-name` other
//! names). Works from the lexer alone, so any input, however broken, comes out escaped.

use super::lexer::{TokKind, lex};
use super::parser::is_keyword;
use super::units::Registry;

use crate::html::escape_into as escape;

/// The block source as HTML with highlighting spans.
pub fn highlight_html(src: &str) -> String {
    thread_local! {
        static PRELUDE: Registry = Registry::prelude();
    }
    PRELUDE.with(|reg| highlight_with(src, reg))
}

/// As [`highlight_html`], knowing the book's declared units.
pub fn highlight_with(src: &str, reg: &Registry) -> String {
    let toks = lex(src);
    let mut out = String::with_capacity(src.len() * 2);
    let mut pos = 0;
    let mut prev: Option<&TokKind> = None;
    let mut after_in = false;
    for (i, t) in toks.iter().enumerate() {
        let Some(text) = src.get(t.span.clone()) else {
            continue;
        };
        if t.span.start > pos
            && let Some(gap) = src.get(pos..t.span.start)
        {
            escape(gap, &mut out);
        }
        let next = toks.get(i + 1).map(|n| &n.kind);
        let class = match &t.kind {
            TokKind::Number(_) => Some("cb-num"),
            TokKind::Str(_) | TokKind::UnterminatedStr => Some("cb-str"),
            TokKind::Comment => Some("cb-com"),
            TokKind::Dollar | TokKind::Percent => Some("cb-unit"),
            TokKind::Ident if is_keyword(text) => Some("cb-kw"),
            TokKind::Ident if next == Some(&TokKind::LParen) => Some("cb-fn"),
            TokKind::Ident
                if reg.is_unit(text)
                    && (after_in
                        || matches!(
                            prev,
                            Some(TokKind::Number(_) | TokKind::Slash | TokKind::Dollar)
                        )) =>
            {
                Some("cb-unit")
            }
            TokKind::Ident => Some("cb-name"),
            TokKind::Newline | TokKind::Unknown(_) => None,
            _ => Some("cb-op"),
        };
        // Names after `in` are units until something that cannot be part of a unit.
        if t.kind == TokKind::Ident && text == "in" {
            after_in = true;
        } else if !matches!(
            t.kind,
            TokKind::Ident
                | TokKind::Slash
                | TokKind::Star
                | TokKind::Caret
                | TokKind::Number(_)
                | TokKind::Dollar
                | TokKind::Percent
                | TokKind::LParen
                | TokKind::RParen
        ) {
            after_in = false;
        }
        match class {
            Some(c) => {
                out.push_str("<span class=\"");
                out.push_str(c);
                out.push_str("\">");
                escape(text, &mut out);
                out.push_str("</span>");
            }
            None => escape(text, &mut out),
        }
        pos = t.span.end;
        prev = Some(&t.kind);
    }
    if let Some(rest) = src.get(pos..) {
        escape(rest, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_each_kind_of_token() {
        let h = highlight_html("bw = 8 TB/s # HBM\nclaim \"a<b\": f(bw) > 1 in GB/s");
        assert_eq!(
            h,
            "<span class=\"cb-name\">bw</span> <span class=\"cb-op\">=</span> \
             <span class=\"cb-num\">8</span> <span class=\"cb-unit\">TB</span>\
             <span class=\"cb-op\">/</span><span class=\"cb-unit\">s</span> \
             <span class=\"cb-com\"># HBM</span>\n<span class=\"cb-kw\">claim</span> \
             <span class=\"cb-str\">&quot;a&lt;b&quot;</span><span class=\"cb-op\">:</span> \
             <span class=\"cb-fn\">f</span><span class=\"cb-op\">(</span>\
             <span class=\"cb-name\">bw</span><span class=\"cb-op\">)</span> \
             <span class=\"cb-op\">&gt;</span> <span class=\"cb-num\">1</span> \
             <span class=\"cb-kw\">in</span> <span class=\"cb-unit\">GB</span>\
             <span class=\"cb-op\">/</span><span class=\"cb-unit\">s</span>"
        );
    }

    #[test]
    fn broken_input_is_still_escaped_whole() {
        let src = "x = \"open <b> & @ µ\t";
        let h = highlight_html(src);
        assert!(h.contains("&lt;b&gt; &amp; @ µ"), "{h}");
        assert!(!h.contains("<b>"));
    }
}

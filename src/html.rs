//! HTML escaping, a leaf every stage may use (the calc highlighter, charts, the notebook, the
//! renderer) without depending on the Markdown renderer.

/// `s` with `& < > " '` escaped, safe in text and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A dotted or snake_case name escaped, free to break after each `.` and `_` on a narrow screen
/// (`scale_up.bandwidth_per_direction`) instead of inside a word.
pub fn breakable_name(name: &str) -> String {
    escape(name).replace('.', ".<wbr>").replace('_', "_<wbr>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_break_after_dots_and_underscores() {
        assert_eq!(
            super::breakable_name("up.bw_dir<"),
            "up.<wbr>bw_<wbr>dir&lt;"
        );
    }

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            super::escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        let mut out = String::from("pre:");
        super::escape_into("µ<", &mut out);
        assert_eq!(out, "pre:µ&lt;");
    }
}

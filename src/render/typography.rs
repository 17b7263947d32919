//! Typography for text the book generates from YAML and calc (claim words, chart titles, captions
//! and legends, data entry names and notes): the curly quotes and dashes the Markdown prose gets
//! from pulldown-cmark's smart punctuation, so the two never sit side by side in different styles.

/// `"a"` → “a”, `it's` → it’s, `--` → –, `---` → —, `...` → …, a spaced ` - ` → ` – `.
pub fn smart(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i == 0 { None } else { out.chars().last() };
        let opens = prev.is_none_or(|p| p.is_whitespace() || "([{—–-/“‘".contains(p));
        match c {
            '"' => out.push(if opens { '“' } else { '”' }),
            '\'' => {
                let next_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                out.push(if opens && next_word { '‘' } else { '’' });
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                if chars.get(i + 2) == Some(&'-') {
                    out.push('—');
                    i += 1;
                } else {
                    out.push('–');
                }
                i += 1;
            }
            '-' if prev == Some(' ') && chars.get(i + 1) == Some(&' ') => out.push('–'),
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push('…');
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::smart;

    #[test]
    fn quotes_curl_toward_their_words_and_dashes_lengthen() {
        assert_eq!(
            smart(r#"The talk's "$2/hour" (quoted 'roughly') -- 2024---2025 - done..."#),
            "The talk’s “$2/hour” (quoted ‘roughly’) – 2024—2025 – done…"
        );
        assert_eq!(smart("H100-SXM5 a-b"), "H100-SXM5 a-b");
        assert_eq!(smart("\"Quoted\" at the start"), "“Quoted” at the start");
    }
}

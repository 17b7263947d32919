//! The search index: every page's text *as displayed* (prose, headings, calc results, claims and
//! their verdicts, table cells, captions, data entries, references already rendered as
//! "Figure 2"), cut into one entry per heading, with each entry's words reduced to their stems so
//! that "batching" finds "batch", "batches" and "batched".
//!
//! The text comes from a page's finished HTML rather than its Markdown, so anything a cell renders
//! (a calc pad, a claim box, a data table, a generated page) is searchable without each renderer
//! reporting its text. The stemmer is Porter's (1980, "An algorithm for suffix stripping"); the
//! search box (`calcbook.js`, `stem`) runs the same algorithm over the query, and tokenizes with
//! the same separators as [`tokens`].

use serde::Serialize;

/// One searchable section of a page: a heading (with its anchor) and the text under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub anchor: Option<String>,
    pub heading: String,
    pub text: String,
}

/// Elements whose contents a reader does not read as text: drawings (their words are in the
/// figure's HTML title, legend and caption), scripts, and the CSV download chip.
const SKIPPED: [&str; 5] = ["svg", "script", "style", "template", "noscript"];
/// Elements that end a run of words (a space goes in their place).
const BREAKS: [&str; 22] = [
    "p",
    "div",
    "li",
    "td",
    "th",
    "tr",
    "br",
    "pre",
    "figcaption",
    "figure",
    "section",
    "dd",
    "dt",
    "table",
    "ul",
    "ol",
    "blockquote",
    "details",
    "summary",
    "h1",
    "h2",
    "hr",
];
const VOID: [&str; 8] = ["br", "img", "hr", "input", "meta", "link", "wbr", "source"];

/// One tag read from the HTML.
struct Tag<'a> {
    /// Lower-cased (borrowed when it already is, as calcbook's own HTML always is).
    name: std::borrow::Cow<'a, str>,
    closing: bool,
    self_closing: bool,
    attrs: &'a str,
}

fn read_tag(s: &str) -> Option<(Tag<'_>, usize)> {
    // `s` starts after '<'; returns the tag and the length up to and including '>'. The quotes
    // and '>' are ASCII, so the bytes are scanned, not the characters.
    let mut quote = None;
    let end = s.bytes().enumerate().find_map(|(i, c)| match (quote, c) {
        (None, b'"' | b'\'') => {
            quote = Some(c);
            None
        }
        (Some(q), c) if c == q => {
            quote = None;
            None
        }
        (None, b'>') => Some(i),
        _ => None,
    })?;
    let inner = &s[..end];
    let closing = inner.starts_with('/');
    let body = inner.trim_start_matches('/');
    let name_len = body
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(body.len());
    let name = &body[..name_len];
    let name = match name.bytes().any(|b| b.is_ascii_uppercase()) {
        true => std::borrow::Cow::Owned(name.to_ascii_lowercase()),
        false => std::borrow::Cow::Borrowed(name),
    };
    Some((
        Tag {
            name,
            closing,
            self_closing: inner.ends_with('/'),
            attrs: &body[name_len..],
        },
        end + 1,
    ))
}

fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest[..at].ends_with(char::is_whitespace);
        let after = &rest[at + name.len()..];
        if before_ok && let Some(value) = after.strip_prefix("=\"") {
            return value.find('"').map(|end| &value[..end]);
        }
        rest = after;
    }
    None
}

fn decode_entity(s: &str) -> Option<(char, usize)> {
    // `s` starts after '&'.
    let end = s.find(';').filter(|&e| e <= 10)?;
    let name = &s[..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok()?
            } else {
                name.strip_prefix('#')?.parse().ok()?
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// The text of `html` cut at every heading that has an id: the first section (before any such
/// heading) has no anchor and no heading.
pub fn sections_from_html(html: &str) -> Vec<Section> {
    let mut sections = vec![Section::default()];
    let mut skip: Option<(String, usize)> = None; // (element, nesting depth)
    let mut in_heading: Option<String> = None;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if let Some(after) = rest.strip_prefix('<') {
            let Some((tag, len)) = read_tag(after) else {
                break;
            };
            i += 1 + len;
            if let Some((name, depth)) = &mut skip {
                if tag.name == name.as_str() && !tag.self_closing {
                    if tag.closing {
                        *depth -= 1;
                    } else {
                        *depth += 1;
                    }
                }
                if *depth == 0 {
                    skip = None;
                }
                continue;
            }
            if tag.closing {
                if in_heading.as_deref() == Some(&*tag.name) {
                    in_heading = None;
                }
            } else if !tag.self_closing && !VOID.contains(&&*tag.name) {
                let chip = attr(tag.attrs, "class").is_some_and(|c| c.contains("chart-csv"));
                if SKIPPED.contains(&&*tag.name) || chip {
                    skip = Some((tag.name.to_string(), 1));
                    continue;
                }
                let is_heading = matches!(&*tag.name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
                if is_heading && let Some(id) = attr(tag.attrs, "id") {
                    sections.push(Section {
                        anchor: Some(id.to_string()),
                        ..Section::default()
                    });
                    in_heading = Some(tag.name.to_string());
                    continue;
                }
            }
            if BREAKS.contains(&&*tag.name) || tag.name.starts_with('h') {
                push_space(&mut sections, in_heading.is_some());
            }
            continue;
        }
        // Text up to the next tag or entity, taken as one run.
        let (run, len) = match rest.strip_prefix('&').map(decode_entity) {
            Some(Some((c, len))) => (Text::Char(c), len + 1),
            Some(None) => (Text::Char('&'), 1),
            None => {
                let len = memchr::memchr2(b'<', b'&', rest.as_bytes()).unwrap_or(rest.len());
                (Text::Run(&rest[..len]), len)
            }
        };
        i += len;
        if skip.is_some() {
            continue;
        }
        let section = sections.last_mut().expect("one section at least");
        let field = if in_heading.is_some() {
            &mut section.heading
        } else {
            &mut section.text
        };
        match run {
            Text::Char(c) => push_text(field, c.encode_utf8(&mut [0; 4])),
            Text::Run(run) => push_text(field, run),
        }
    }
    for s in &mut sections {
        s.heading = s.heading.trim().to_string();
        s.text = s.text.trim().to_string();
    }
    // Nothing before the first heading (a chapter usually opens with its title): drop it.
    if sections.len() > 1 && sections[0].text.is_empty() {
        sections.remove(0);
    }
    sections
}

/// Text between tags: a run of the HTML as written, or one character an entity stands for.
enum Text<'a> {
    Run(&'a str),
    Char(char),
}

/// Appends `text` to `field` with each stretch of whitespace as one space, and none at the start.
/// ASCII is classified by its byte; only other characters are decoded.
fn push_text(field: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let (mut word, mut i) = (0, 0);
    while i < bytes.len() {
        let (space, len) = match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => (true, 1),
            b if b.is_ascii() => (false, 1),
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_whitespace(), c.len_utf8())
            }
        };
        if space {
            field.push_str(&text[word..i]);
            if !field.is_empty() && !field.ends_with(' ') {
                field.push(' ');
            }
            word = i + len;
        }
        i += len;
    }
    field.push_str(&text[word..]);
}

fn push_space(sections: &mut [Section], heading: bool) {
    let section = sections.last_mut().expect("one section at least");
    let field = if heading {
        &mut section.heading
    } else {
        &mut section.text
    };
    if !field.is_empty() && !field.ends_with(' ') {
        field.push(' ');
    }
}

/// Whether `c` ends a word: whitespace or the punctuation `,;:!?"“”'‘’()[]{}<>`, as `calcbook.js`
/// cuts a query (a `match` rather than a search of a string: every character of the book is asked).
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';'
                | ':'
                | '!'
                | '?'
                | '"'
                | '“'
                | '”'
                | '\''
                | '‘'
                | '’'
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
        )
}

/// The words of already lower-cased `text`, as [`tokens`] cuts them.
fn words(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(is_separator)
        .map(|t| t.trim_matches(|c| matches!(c, '.' | '-' | '_' | '/' | '=' | '+' | '*')))
        .filter(|t| !t.is_empty())
}

/// The words of `text` as the search box splits a query: lower-cased, cut at spaces and
/// punctuation that cannot be part of a number or a name, with `.-_/=+*` trimmed from the ends
/// ("3.35" and "a100" stay whole).
pub fn tokens(text: &str) -> Vec<String> {
    words(&text.to_lowercase()).map(str::to_string).collect()
}

/// The stems of `text`'s words, each once, in order, space-separated with a space at each end
/// (so the search box can look for " stem " and " prefix"). A word met before is not stemmed
/// again: its stem is already there.
pub fn stems(text: &str) -> String {
    let lower = text.to_lowercase();
    // Room for a word every dozen bytes, so that a long section's sets seldom grow.
    let room = lower.len() / 12;
    let mut seen_words = WordSet::with_capacity_and_hasher(room, WordHash::default());
    let mut seen_stems = std::collections::HashSet::<String, WordHash>::with_capacity_and_hasher(
        room / 2,
        WordHash::default(),
    );
    let mut out = String::with_capacity(lower.len() / 2 + 1);
    out.push(' ');
    for word in words(&lower) {
        if !seen_words.insert(word) {
            continue;
        }
        let s = stem(word);
        if !seen_stems.contains(&s) {
            out.push_str(&s);
            out.push(' ');
            seen_stems.insert(s);
        }
    }
    out
}

/// Sets of one section's words, hashed with a multiply-rotate hash (FxHash's): several times
/// faster than the default SipHash on short words, and the words are the book's own.
type WordHash = std::hash::BuildHasherDefault<WordHasher>;
type WordSet<'a> = std::collections::HashSet<&'a str, WordHash>;

#[derive(Default)]
struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(tail));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Porter's stemmer over a lower-case word; words with anything but ASCII letters, and words of
/// two letters or fewer, are their own stems.
pub fn stem(word: &str) -> String {
    if word.len() <= 2 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_string();
    }
    let mut p = Porter {
        b: word.as_bytes().to_vec(),
        j: 0,
    };
    p.step1ab();
    if p.b.len() > 1 {
        p.step1c();
        p.step2();
        p.step3();
        p.step4();
        p.step5();
    }
    String::from_utf8(p.b).unwrap_or_else(|_| word.to_string())
}

/// The state of Porter's algorithm: the word so far, and `j`, the length of the stem before the
/// suffix last matched by [`Porter::ends`].
struct Porter {
    b: Vec<u8>,
    j: usize,
}

impl Porter {
    fn cons(&self, i: usize) -> bool {
        match self.b[i] {
            b'a' | b'e' | b'i' | b'o' | b'u' => false,
            b'y' => i == 0 || !self.cons(i - 1),
            _ => true,
        }
    }

    /// The number of vowel-consonant sequences in the stem `b[..j]`.
    fn m(&self) -> usize {
        let (mut n, mut i) = (0, 0);
        let j = self.j;
        while i < j && self.cons(i) {
            i += 1;
        }
        loop {
            while i < j && !self.cons(i) {
                i += 1;
            }
            if i >= j {
                return n;
            }
            while i < j && self.cons(i) {
                i += 1;
            }
            n += 1;
        }
    }

    fn vowel_in_stem(&self) -> bool {
        (0..self.j).any(|i| !self.cons(i))
    }

    fn double_cons(&self, end: usize) -> bool {
        end >= 2 && self.b[end - 1] == self.b[end - 2] && self.cons(end - 1)
    }

    /// Consonant-vowel-consonant ending at `end - 1`, the last not w, x or y.
    fn cvc(&self, end: usize) -> bool {
        end >= 3
            && self.cons(end - 1)
            && !self.cons(end - 2)
            && self.cons(end - 3)
            && !matches!(self.b[end - 1], b'w' | b'x' | b'y')
    }

    fn ends(&mut self, suffix: &str) -> bool {
        if self.b.ends_with(suffix.as_bytes()) {
            self.j = self.b.len() - suffix.len();
            true
        } else {
            false
        }
    }

    fn set_to(&mut self, s: &str) {
        self.b.truncate(self.j);
        self.b.extend_from_slice(s.as_bytes());
    }

    fn step1ab(&mut self) {
        if self.b.ends_with(b"s") {
            if self.ends("sses") {
                self.b.truncate(self.b.len() - 2);
            } else if self.ends("ies") {
                self.set_to("i");
            } else if self.b[self.b.len() - 2] != b's' {
                self.b.pop();
            }
        }
        if self.ends("eed") {
            if self.m() > 0 {
                self.b.pop();
            }
        } else if (self.ends("ed") || self.ends("ing")) && self.vowel_in_stem() {
            self.b.truncate(self.j);
            let len = self.b.len();
            if self.ends("at") || self.ends("bl") || self.ends("iz") {
                self.b.push(b'e');
            } else if self.double_cons(len) {
                if !matches!(self.b[len - 1], b'l' | b's' | b'z') {
                    self.b.pop();
                }
            } else {
                self.j = len;
                if self.m() == 1 && self.cvc(len) {
                    self.b.push(b'e');
                }
            }
        }
    }

    fn step1c(&mut self) {
        if self.ends("y") && self.vowel_in_stem() {
            let last = self.b.len() - 1;
            self.b[last] = b'i';
        }
    }

    /// Replaces the first of `rules`' suffixes that the word ends with, when the stem before it
    /// has more than `min_m` vowel-consonant sequences.
    fn replace(&mut self, rules: &[(&str, &str)], min_m: usize) {
        for (suffix, with) in rules {
            if self.ends(suffix) {
                if self.m() > min_m {
                    self.set_to(with);
                }
                return;
            }
        }
    }

    fn step2(&mut self) {
        self.replace(
            &[
                ("ational", "ate"),
                ("tional", "tion"),
                ("enci", "ence"),
                ("anci", "ance"),
                ("izer", "ize"),
                ("bli", "ble"),
                ("alli", "al"),
                ("entli", "ent"),
                ("eli", "e"),
                ("ousli", "ous"),
                ("ization", "ize"),
                ("ation", "ate"),
                ("ator", "ate"),
                ("alism", "al"),
                ("iveness", "ive"),
                ("fulness", "ful"),
                ("ousness", "ous"),
                ("aliti", "al"),
                ("iviti", "ive"),
                ("biliti", "ble"),
                ("logi", "log"),
            ],
            0,
        );
    }

    fn step3(&mut self) {
        self.replace(
            &[
                ("icate", "ic"),
                ("ative", ""),
                ("alize", "al"),
                ("iciti", "ic"),
                ("ical", "ic"),
                ("ful", ""),
                ("ness", ""),
            ],
            0,
        );
    }

    fn step4(&mut self) {
        const SUFFIXES: [&str; 19] = [
            "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
            "ou", "ism", "ate", "iti", "ous", "ive", "ize",
        ];
        for suffix in SUFFIXES {
            if self.ends(suffix) {
                let ion_ok =
                    suffix != "ion" || (self.j > 0 && matches!(self.b[self.j - 1], b's' | b't'));
                if ion_ok && self.m() > 1 {
                    self.b.truncate(self.j);
                }
                return;
            }
        }
    }

    fn step5(&mut self) {
        let len = self.b.len();
        self.j = len;
        if self.b[len - 1] == b'e' {
            self.j = len - 1;
            let m = self.m();
            if m > 1 || (m == 1 && !self.cvc(len - 1)) {
                self.b.pop();
            }
        }
        let len = self.b.len();
        self.j = len;
        if self.b[len - 1] == b'l' && self.double_cons(len) && self.m() > 1 {
            self.b.pop();
        }
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    /// The page's title.
    p: &'a str,
    /// The section's heading ("" for the page's opening section).
    h: &'a str,
    u: String,
    /// The section's text as displayed.
    b: &'a str,
    /// Stems of the heading and of the text, for matching.
    hs: String,
    bs: String,
}

/// A page's entries of the search index, as JSON objects joined by commas: one per section of its
/// finished content HTML.
pub fn entries(title: &str, path: &str, html: &str) -> String {
    let sections = sections_from_html(html);
    let mut out = Vec::with_capacity(sections.len());
    for s in &sections {
        let heading = if s.heading == title { "" } else { &s.heading };
        let entry = Entry {
            p: title,
            h: heading,
            // The page's own title links to the page, a section to its heading.
            u: match &s.anchor {
                Some(a) if !heading.is_empty() => format!("{path}#{a}"),
                _ => path.to_string(),
            },
            b: &s.text,
            hs: stems(heading),
            bs: stems(&s.text),
        };
        if let Ok(json) = serde_json::to_string(&entry) {
            out.push(json);
        }
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porter_stems_the_classic_examples() {
        for (word, want) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("conflated", "conflat"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("adjustment", "adjust"),
            ("adoption", "adopt"),
            ("controll", "control"),
            ("rate", "rate"),
        ] {
            assert_eq!(stem(word), want, "{word}");
        }
    }

    #[test]
    fn batching_batches_and_batched_share_a_stem() {
        let s = stem("batching");
        assert_eq!(s, "batch");
        assert_eq!(stem("batches"), s);
        assert_eq!(stem("batched"), s);
        assert_eq!(stem("batch"), s);
    }

    #[test]
    fn separators_are_whitespace_and_the_listed_punctuation() {
        const SEPARATORS: &str = ",;:!?\"“”'‘’()[]{}<>";
        for c in (0..0x3100).filter_map(char::from_u32) {
            let listed = c.is_whitespace() || SEPARATORS.contains(c);
            assert_eq!(is_separator(c), listed, "{c:?}");
        }
    }

    #[test]
    fn text_runs_keep_words_and_fold_every_kind_of_whitespace_to_one_space() {
        // The rule, a character at a time.
        fn reference(field: &mut String, text: &str) {
            for c in text.chars() {
                if !c.is_whitespace() {
                    field.push(c);
                } else if !field.is_empty() && !field.ends_with(' ') {
                    field.push(' ');
                }
            }
        }
        for (start, text) in [
            ("", "  lead and trail  "),
            ("a", " b\t\nc\u{b}\u{c}\rd"),
            ("x ", "\u{a0}non\u{2003}ascii\u{85}spaces é ü 中文"),
            ("", "\u{3000}"),
            ("word", "joined"),
        ] {
            let (mut fast, mut slow) = (start.to_string(), start.to_string());
            push_text(&mut fast, text);
            reference(&mut slow, text);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn stems_are_listed_once_in_the_order_of_their_first_word() {
        assert_eq!(
            stems("Batching batches; the batch, THE cache (caches) 3.35"),
            " batch the cach 3.35 "
        );
        assert_eq!(stems(""), " ");
    }

    #[test]
    fn numbers_and_names_are_their_own_tokens() {
        assert_eq!(
            tokens("NVIDIA A100 SXM: 3.35 TB/s."),
            ["nvidia", "a100", "sxm", "3.35", "tb/s"]
        );
        assert_eq!(stem("3.35"), "3.35");
    }

    #[test]
    fn sections_are_cut_at_headings_and_skip_drawings() {
        let html = "<h1 id=\"t\">Title</h1><p>Intro &amp; more</p><figure><p class=\"chart-title\">Cost</p>\
                    <svg><text>99</text></svg><figcaption>Figure 1 <a class=\"chart-csv\" href=\"x\">data (CSV)</a></figcaption></figure>\
                    <h2 id=\"s\">Second <em>part</em></h2><table><tr><td>a</td><td>b</td></tr></table>";
        let s = sections_from_html(html);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].heading, "Title");
        assert_eq!(s[0].text, "Intro & more Cost Figure 1");
        assert_eq!(s[1].anchor.as_deref(), Some("s"));
        assert_eq!(s[1].heading, "Second part");
        assert_eq!(s[1].text, "a b");
    }
}

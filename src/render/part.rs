//! A page's share of a file that holds the whole book (the search index, the print page). Fresh,
//! it is the page's own text; once a whole-book file has been made from it, it is the place in
//! that file which holds it. `serve` keeps every page's share between rebuilds, to splice the next
//! file from: pointing into the file it already holds, rather than keeping a copy, spares it the
//! book's text twice over.

use std::ops::Range;

/// One page's share of a whole-book file.
#[derive(Debug, Clone)]
pub enum Part {
    /// Made since the last file was: the text itself.
    Own(String),
    /// The bytes at this range of the last file made.
    In(Range<usize>),
}

impl Part {
    /// The share's bytes; `last` is the file an [`Part::In`] points into (none: empty).
    pub fn bytes<'a>(&'a self, last: Option<&'a [u8]>) -> &'a [u8] {
        match self {
            Part::Own(text) => text.as_bytes(),
            Part::In(range) => last.and_then(|l| l.get(range.clone())).unwrap_or_default(),
        }
    }
}

/// Joins `parts` into a new file, `head` first, `sep` between them and `tail` last, and returns
/// it with the range each part took in it.
pub fn splice(
    head: &[u8],
    parts: &[&[u8]],
    sep: &[u8],
    tail: &[u8],
) -> (Vec<u8>, Vec<Range<usize>>) {
    let size = head.len() + tail.len() + parts.iter().map(|p| p.len() + sep.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head);
    let mut ranges = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        let start = out.len();
        out.extend_from_slice(part);
        ranges.push(start..out.len());
    }
    out.extend_from_slice(tail);
    (out, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_part_points_at_its_own_bytes_in_the_new_file() {
        let own = [Part::Own("one".into()), Part::Own("two".into())];
        let parts: Vec<&[u8]> = own.iter().map(|p| p.bytes(None)).collect();
        let (file, ranges) = splice(b"[", &parts, b",", b"]");
        assert_eq!(file, b"[one,two]");
        let pointed: Vec<Part> = ranges.into_iter().map(Part::In).collect();
        assert_eq!(pointed[1].bytes(Some(&file)), b"two");
        // Spliced again, with the first page changed, from the file just made.
        let fresh = Part::Own("uno".into());
        let parts = [fresh.bytes(None), pointed[1].bytes(Some(&file))];
        assert_eq!(splice(b"[", &parts, b",", b"]").0, b"[uno,two]");
        assert_eq!(Part::In(0..3).bytes(None), b"");
    }
}

//! Lexer: source text to tokens with byte spans. Never fails: characters it does not know become
//! [`TokKind::Unknown`] tokens and an unterminated string becomes [`TokKind::UnterminatedStr`], so
//! the highlighter can colour any input and the parser reports the error with a span.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq)]
pub enum TokKind {
    Number(f64),
    Ident,
    Str(String),
    UnterminatedStr,
    /// `$`, a unit that may also stand before a number (`$2.40`).
    Dollar,
    /// `%`, the unit 0.01.
    Percent,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    Eq,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `≈` or `~=`.
    Approx,
    /// `±` or `+/-`.
    PlusMinus,
    Newline,
    Comment,
    Unknown(char),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokKind,
    pub span: Range<usize>,
}

impl TokKind {
    /// A short description for "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            TokKind::Number(_) => "a number".into(),
            TokKind::Ident => "a name".into(),
            TokKind::Str(_) | TokKind::UnterminatedStr => "a string".into(),
            TokKind::Newline => "the end of the line".into(),
            TokKind::Comment => "a comment".into(),
            TokKind::Unknown(c) => format!("`{c}`"),
            other => format!("`{}`", other.symbol()),
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            TokKind::Dollar => "$",
            TokKind::Percent => "%",
            TokKind::Plus => "+",
            TokKind::Minus => "-",
            TokKind::Star => "*",
            TokKind::Slash => "/",
            TokKind::Caret => "^",
            TokKind::LParen => "(",
            TokKind::RParen => ")",
            TokKind::LBracket => "[",
            TokKind::RBracket => "]",
            TokKind::LBrace => "{",
            TokKind::RBrace => "}",
            TokKind::Comma => ",",
            TokKind::Dot => ".",
            TokKind::DotDot => "..",
            TokKind::Colon => ":",
            TokKind::Eq => "=",
            TokKind::EqEq => "==",
            TokKind::Ne => "!=",
            TokKind::Lt => "<",
            TokKind::Le => "<=",
            TokKind::Gt => ">",
            TokKind::Ge => ">=",
            TokKind::Approx => "≈",
            TokKind::PlusMinus => "±",
            _ => "",
        }
    }
}

pub fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == 'µ'
}

pub fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `src` into tokens, comments and newlines included.
pub fn lex(src: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        let Some(c) = src[i..].chars().next() else {
            break;
        };
        let start = i;
        let next = |k: usize| src[k..].chars().next();
        let tok = |kind, end: usize| Token {
            kind,
            span: start..end,
        };
        if c == '\n' {
            out.push(tok(TokKind::Newline, i + 1));
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if c == '#' {
            let end = src[i..].find('\n').map_or(src.len(), |e| i + e);
            out.push(tok(TokKind::Comment, end));
            i = end;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit()))
        {
            let (value, end) = lex_number(src, i);
            out.push(tok(TokKind::Number(value), end));
            i = end;
            continue;
        }
        if is_ident_start(c) {
            let mut end = i + c.len_utf8();
            while let Some(d) = next(end) {
                if is_ident_continue(d) {
                    end += d.len_utf8();
                } else {
                    break;
                }
            }
            out.push(tok(TokKind::Ident, end));
            i = end;
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            let mut j = i + 1;
            let mut closed = false;
            while let Some(d) = next(j) {
                j += d.len_utf8();
                match d {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\n' => {
                        j -= 1;
                        break;
                    }
                    '\\' => match next(j) {
                        Some(e) if e != '\n' => {
                            j += e.len_utf8();
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                        _ => s.push('\\'),
                    },
                    other => s.push(other),
                }
            }
            let kind = if closed {
                TokKind::Str(s)
            } else {
                TokKind::UnterminatedStr
            };
            out.push(tok(kind, j));
            i = j;
            continue;
        }
        let rest = &src[i..];
        let two: &[(&str, TokKind)] = &[
            ("+/-", TokKind::PlusMinus),
            ("..", TokKind::DotDot),
            ("==", TokKind::EqEq),
            ("!=", TokKind::Ne),
            ("<=", TokKind::Le),
            (">=", TokKind::Ge),
            ("~=", TokKind::Approx),
            ("**", TokKind::Caret),
            ("≈", TokKind::Approx),
            ("±", TokKind::PlusMinus),
            ("≤", TokKind::Le),
            ("≥", TokKind::Ge),
            ("≠", TokKind::Ne),
            ("×", TokKind::Star),
            ("·", TokKind::Star),
            ("⋅", TokKind::Star),
            ("÷", TokKind::Slash),
            ("−", TokKind::Minus),
        ];
        if let Some((s, k)) = two.iter().find(|(s, _)| rest.starts_with(s)) {
            out.push(tok(k.clone(), i + s.len()));
            i += s.len();
            continue;
        }
        let kind = match c {
            '$' => TokKind::Dollar,
            '%' => TokKind::Percent,
            '+' => TokKind::Plus,
            '-' => TokKind::Minus,
            '*' => TokKind::Star,
            '/' => TokKind::Slash,
            '^' => TokKind::Caret,
            '(' => TokKind::LParen,
            ')' => TokKind::RParen,
            '[' => TokKind::LBracket,
            ']' => TokKind::RBracket,
            '{' => TokKind::LBrace,
            '}' => TokKind::RBrace,
            ',' => TokKind::Comma,
            '.' => TokKind::Dot,
            ':' => TokKind::Colon,
            '=' => TokKind::Eq,
            '<' => TokKind::Lt,
            '>' => TokKind::Gt,
            other => TokKind::Unknown(other),
        };
        out.push(tok(kind, i + c.len_utf8()));
        i += c.len_utf8();
    }
    out
}

/// A number literal: digits with optional `_` separators, a fraction and an exponent.
fn lex_number(src: &str, start: usize) -> (f64, usize) {
    let b = src.as_bytes();
    let mut i = start;
    let digits = |i: &mut usize| {
        while *i < b.len() && (b[*i].is_ascii_digit() || (b[*i] == b'_' && *i > start)) {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        digits(&mut i);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
    (text.parse().unwrap_or(f64::NAN), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokKind> {
        lex(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_units_and_operators() {
        use TokKind::*;
        assert_eq!(
            kinds("x = 8 TB/s + 1_000.5e3"),
            vec![
                Ident,
                Eq,
                Number(8.0),
                Ident,
                Slash,
                Ident,
                Plus,
                Number(1_000_500.0)
            ]
        );
        assert_eq!(
            kinds("$2.40 ≈ 3 ± 10%"),
            vec![
                Dollar,
                Number(2.4),
                Approx,
                Number(3.0),
                PlusMinus,
                Number(10.0),
                Percent
            ]
        );
        assert_eq!(kinds("1..10"), vec![Number(1.0), DotDot, Number(10.0)]);
        assert_eq!(kinds("a.b"), vec![Ident, Dot, Ident]);
    }

    #[test]
    fn strings_comments_and_garbage_never_fail() {
        use TokKind::*;
        assert_eq!(
            kinds("claim \"a \\\"b\\\"\": x # note\n"),
            vec![Ident, Str("a \"b\"".into()), Colon, Ident, Comment, Newline]
        );
        assert_eq!(kinds("\"open"), vec![UnterminatedStr]);
        assert_eq!(kinds("@ µs"), vec![Unknown('@'), Ident]);
        let spans: Vec<_> = lex("µs ≈ 1").into_iter().map(|t| t.span).collect();
        assert_eq!(spans, vec![0..3, 4..7, 8..9]);
    }
}

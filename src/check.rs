//! `calcbook check`: the verdict on a whole book, for people and for CI systems.
//!
//! The book is loaded and evaluated in memory without being drawn ([`crate::evaluate_book`];
//! nothing is written); this module only formats the outcome: a text report (claims table,
//! failures first, then every diagnostic with its caret excerpt and a one-line total), JSON (a
//! stable schema, `schema/check.schema.json`), JUnit XML (one test case per claim, one suite per
//! chapter) and GitHub workflow annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diagnostic::{self, Diagnostic, Severity, Sources};
use crate::notebook::{ClaimKind, ClaimRecord};

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Junit,
    Github,
}

/// Everything `check` found.
pub struct Report<'a> {
    pub claims: &'a [ClaimRecord],
    pub diagnostics: &'a [Diagnostic],
    pub sources: &'a Sources,
    pub deny_warnings: bool,
}

impl Report<'_> {
    /// Claims that do not hold, those not evaluated included.
    pub fn failing(&self) -> usize {
        self.claims.iter().filter(|c| !c.holds).count()
    }
    /// Claims that gave no verdict because something they depend on failed.
    pub fn not_evaluated(&self) -> usize {
        self.claims
            .iter()
            .filter(|c| c.not_evaluated.is_some())
            .count()
    }
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
    /// True when the book passes: every claim holds, no error (and no warning if denied).
    pub fn ok(&self) -> bool {
        self.failing() == 0 && self.errors() == 0 && !(self.deny_warnings && self.warnings() > 0)
    }

    pub fn render(&self, format: Format, color: bool) -> String {
        match format {
            Format::Text => self.text(color),
            Format::Json => self.json(),
            Format::Junit => self.junit(),
            Format::Github => self.github(),
        }
    }

    fn total_line(&self) -> String {
        let verdict = if self.ok() { "ok" } else { "FAILED" };
        let failed = self.failing() - self.not_evaluated();
        let not_evaluated = match self.not_evaluated() {
            0 => String::new(),
            n => format!(", {n} not evaluated"),
        };
        format!(
            "check {verdict}: {} claim{} ({} hold{}, {} fail{}{not_evaluated}), {} error{}, {} warning{}{}",
            self.claims.len(),
            plural(self.claims.len()),
            self.claims.len() - self.failing(),
            if self.claims.len() - self.failing() == 1 {
                "s"
            } else {
                ""
            },
            failed,
            if failed == 1 { "s" } else { "" },
            self.errors(),
            plural(self.errors()),
            self.warnings(),
            plural(self.warnings()),
            if self.deny_warnings && self.warnings() > 0 {
                " (warnings denied)"
            } else {
                ""
            }
        )
    }

    /// Claims with failures first, then in book order.
    fn ordered_claims(&self) -> Vec<&ClaimRecord> {
        let mut claims: Vec<&ClaimRecord> = self.claims.iter().collect();
        claims.sort_by_key(|c| c.holds);
        claims
    }

    fn text(&self, color: bool) -> String {
        let paint = |code: &str, s: &str| {
            if color {
                format!("\x1b[{code}m{s}\x1b[0m")
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        if !self.claims.is_empty() {
            let rows: Vec<[String; 4]> = self
                .ordered_claims()
                .iter()
                .map(|c| {
                    let values = claim_values(c);
                    [
                        if c.holds { "ok".into() } else { "FAIL".into() },
                        format!("{}:{}", c.file.display(), c.line),
                        truncate(&c.words, 60),
                        match (&c.margin, c.holds) {
                            (Some(m), false) if c.not_evaluated.is_some() => m.clone(),
                            (Some(m), false) => format!("{values}  ({m})"),
                            _ => values,
                        },
                    ]
                })
                .collect();
            let w_loc = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
            let w_words = rows.iter().map(|r| r[2].chars().count()).max().unwrap_or(0);
            let _ = writeln!(
                out,
                "{}  {:w_loc$}  {:w_words$}  values",
                paint("1", "verdict"),
                "where",
                "claim"
            );
            for (row, claim) in rows.iter().zip(self.ordered_claims()) {
                let verdict = if claim.holds {
                    paint("32", "  ✓ ok ")
                } else if claim.not_evaluated.is_some() {
                    paint("31;1", "✗ N/E  ")
                } else {
                    paint("31;1", "✗ FAIL ")
                };
                let kind = if claim.kind == ClaimKind::Refute {
                    " (refute)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "{verdict}  {:w_loc$}  {:w_words$}  {}{kind}",
                    row[1], row[2], row[3]
                );
                if !claim.holds {
                    for line in provenance_lines(claim) {
                        let _ = writeln!(out, "         {:w_loc$}  {line}", "");
                    }
                }
            }
            out.push('\n');
        }
        if !self.diagnostics.is_empty() {
            out.push_str(&diagnostic::render(self.diagnostics, self.sources, color));
            out.push('\n');
        }
        let total = self.total_line();
        out.push_str(&if self.ok() {
            paint("32;1", &total)
        } else {
            paint("31;1", &total)
        });
        out.push('\n');
        out
    }

    fn json(&self) -> String {
        #[derive(Serialize)]
        struct Side<'a> {
            text: &'a str,
            value: f64,
            unit: &'a str,
            from: &'a [crate::calc::Figure],
        }
        #[derive(Serialize)]
        struct Cause<'a> {
            name: Option<&'a str>,
            file: String,
            line: usize,
            column: usize,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct JsonClaim<'a> {
            id: &'a str,
            kind: &'a str,
            words: &'a str,
            holds: bool,
            status: &'a str,
            not_evaluated: Option<Cause<'a>>,
            chapter: &'a str,
            page: &'a str,
            file: String,
            line: usize,
            column: usize,
            operator: &'a str,
            tolerance: Option<&'a str>,
            lhs: Side<'a>,
            rhs: Side<'a>,
            margin: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Position {
            line: usize,
            column: usize,
            offset: usize,
        }
        #[derive(Serialize)]
        struct JsonDiagnostic<'a> {
            severity: Severity,
            code: &'a str,
            message: &'a str,
            file: Option<String>,
            start: Option<Position>,
            end: Option<Position>,
            label: Option<&'a str>,
            help: Option<&'a str>,
            notes: &'a [String],
        }
        let claims: Vec<JsonClaim> = self
            .claims
            .iter()
            .map(|c| JsonClaim {
                id: &c.id,
                kind: c.kind.as_str(),
                words: &c.words,
                holds: c.holds,
                status: match (&c.not_evaluated, c.holds) {
                    (Some(_), _) => "not-evaluated",
                    (None, true) => "holds",
                    (None, false) => "fails",
                },
                not_evaluated: c.not_evaluated.as_ref().map(|r| Cause {
                    name: r.name.as_deref(),
                    file: r.file.display().to_string(),
                    line: r.line,
                    column: r.column,
                    message: &r.message,
                }),
                chapter: &c.chapter,
                page: &c.page,
                file: c.file.display().to_string(),
                line: c.line,
                column: c.column,
                operator: &c.op,
                tolerance: c.tolerance.as_deref(),
                lhs: Side {
                    text: &c.lhs,
                    value: c.lhs_value,
                    unit: &c.unit,
                    from: &c.lhs_from,
                },
                rhs: Side {
                    text: &c.rhs,
                    value: c.rhs_value,
                    unit: &c.unit,
                    from: &c.rhs_from,
                },
                margin: c.margin.as_deref(),
            })
            .collect();
        let diagnostics: Vec<JsonDiagnostic> = self
            .diagnostics
            .iter()
            .map(|d| {
                let text = d.file.as_ref().and_then(|f| self.sources.get(f));
                let pos = |offset: usize| {
                    text.map(|t| {
                        let (line, column) = diagnostic::line_col(t, offset);
                        Position {
                            line,
                            column,
                            offset,
                        }
                    })
                };
                JsonDiagnostic {
                    severity: d.severity,
                    code: d.code.as_str(),
                    message: &d.message,
                    file: d.file.as_ref().map(|f| f.display().to_string()),
                    start: d.span.as_ref().and_then(|s| pos(s.start)),
                    end: d.span.as_ref().and_then(|s| pos(s.end)),
                    label: d.label.as_deref(),
                    help: d.help.as_deref(),
                    notes: &d.notes,
                }
            })
            .collect();
        let doc = serde_json::json!({
            "schema": "https://calcbook.invalid/schema/check/v1",
            "version": 1,
            "ok": self.ok(),
            "summary": {
                "claims": self.claims.len(),
                "holding": self.claims.len() - self.failing(),
                "failing": self.failing(),
                "not_evaluated": self.not_evaluated(),
                "errors": self.errors(),
                "warnings": self.warnings(),
            },
            "claims": claims,
            "diagnostics": diagnostics,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        s
    }

    fn junit(&self) -> String {
        // One suite per chapter, in book order; a suite for diagnostics not tied to a claim.
        let mut suites: Vec<(&str, Vec<&ClaimRecord>)> = Vec::new();
        for c in self.claims {
            match suites.iter_mut().find(|(name, _)| *name == c.chapter) {
                Some((_, list)) => list.push(c),
                None => suites.push((&c.chapter, vec![c])),
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"calcbook check\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            self.claims.len() + self.diagnostics.len(),
            self.failing(),
            self.errors()
                + if self.deny_warnings {
                    self.warnings()
                } else {
                    0
                }
        );
        for (name, claims) in &suites {
            let failures = claims.iter().filter(|c| !c.holds).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
                xml(name),
                claims.len()
            );
            for c in claims {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
                    xml(&format!("{} {}", c.kind.as_str(), c.words)),
                    xml(&c.file.display().to_string().replace('/', ".")),
                    xml(&c.file.display().to_string()),
                    c.line
                );
                if c.holds {
                    out.push_str("/>\n");
                } else {
                    let values = if c.not_evaluated.is_some() {
                        String::new()
                    } else {
                        claim_values(c)
                    };
                    let margin = c.margin.clone().unwrap_or_default();
                    let kind = if c.not_evaluated.is_some() {
                        "not-evaluated"
                    } else {
                        "claim"
                    };
                    let data = provenance_lines(c).join("\n");
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{kind}\">{}:{}: {}\n{}\n{}\n{}</failure>\n    </testcase>",
                        xml(format!("{values} {margin}").trim()),
                        xml(&c.file.display().to_string()),
                        c.line,
                        xml(&c.words),
                        xml(&values),
                        xml(&margin),
                        xml(&data),
                    );
                }
            }
            out.push_str("  </testsuite>\n");
        }
        if !self.diagnostics.is_empty() {
            let failing = self
                .diagnostics
                .iter()
                .filter(|d| d.is_error() || self.deny_warnings)
                .count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"diagnostics\" tests=\"{}\" failures=\"0\" errors=\"{failing}\">",
                self.diagnostics.len()
            );
            for d in self.diagnostics {
                let loc = self.sources.location(d).unwrap_or_default();
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"diagnostics\"",
                    xml(&format!("{} {loc}", d.code))
                );
                if let Some(f) = &d.file {
                    let _ = write!(out, " file=\"{}\"", xml(&f.display().to_string()));
                }
                if d.is_error() || self.deny_warnings {
                    let detail = diagnostic::render(std::slice::from_ref(d), self.sources, false);
                    let _ = writeln!(
                        out,
                        ">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>",
                        xml(&d.message),
                        xml(d.code.as_str()),
                        xml(&detail)
                    );
                } else {
                    out.push_str(">\n      <skipped message=\"warning\"/>\n    </testcase>\n");
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    fn github(&self) -> String {
        let mut out = String::new();
        for c in self.ordered_claims().into_iter().filter(|c| !c.holds) {
            let margin = match (&c.margin, &c.not_evaluated) {
                (Some(m), None) => format!(" ({m})"),
                (Some(m), Some(_)) => m.clone(),
                (None, _) => String::new(),
            };
            let _ = writeln!(
                out,
                "::error file={},line={},col={},title={}::{}",
                gh_property(&c.file.display().to_string()),
                c.line,
                c.column,
                gh_property(&if c.not_evaluated.is_some() {
                    format!("{} not evaluated", c.kind.as_str())
                } else {
                    format!("{} fails", c.kind.as_str())
                }),
                gh_data(&format!(
                    "\"{}\": {}{margin}{}",
                    c.words,
                    if c.not_evaluated.is_some() {
                        String::new()
                    } else {
                        claim_values(c)
                    },
                    provenance_lines(c)
                        .iter()
                        .map(|l| format!("\n{l}"))
                        .collect::<String>()
                ))
            );
        }
        for d in self.diagnostics {
            let level = if d.is_error() { "error" } else { "warning" };
            let mut props = Vec::new();
            if let Some(f) = &d.file {
                props.push(format!("file={}", gh_property(&f.display().to_string())));
                if let (Some(text), Some(span)) = (self.sources.get(f), &d.span) {
                    let (line, col) = diagnostic::line_col(text, span.start);
                    let (end_line, end_col) = diagnostic::line_col(text, span.end);
                    props.push(format!("line={line},col={col}"));
                    if end_line == line {
                        props.push(format!("endColumn={end_col}"));
                    } else {
                        props.push(format!("endLine={end_line}"));
                    }
                }
            }
            props.push(format!("title={}", gh_property(d.code.as_str())));
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str(&format!("\nhelp: {help}"));
            }
            let _ = writeln!(out, "::{level} {}::{}", props.join(","), gh_data(&message));
        }
        out.push_str(&self.total_line());
        out.push('\n');
        out
    }
}

/// The data figures behind each side of a claim, one line per side that has any.
fn provenance_lines(c: &ClaimRecord) -> Vec<String> {
    [("left", &c.lhs_from), ("right", &c.rhs_from)]
        .into_iter()
        .filter(|(_, figs)| !figs.is_empty())
        .map(|(side, figs)| format!("{side} side from {}", crate::notebook::figures_text(figs)))
        .collect()
}

fn claim_values(c: &ClaimRecord) -> String {
    if c.not_evaluated.is_some() {
        return "not evaluated".into();
    }
    match &c.tolerance {
        Some(t) => format!("{} {} {} ± {t}", c.lhs, c.op, c.rhs),
        None => format!("{} {} {}", c.lhs, c.op, c.rhs),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Escapes text for XML attributes and content; drops characters XML 1.0 forbids. Line breaks
/// and tabs are written as character references, which keeps them in attribute values too (a
/// parser turns a raw one there into a space).
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// GitHub workflow command escaping for the message part.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub workflow command escaping for `key=value` properties.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use std::path::PathBuf;

    fn claim(words: &str, holds: bool) -> ClaimRecord {
        ClaimRecord {
            id: "claim-1".into(),
            chapter: "Batch, physics".into(),
            page: "batch.html".into(),
            file: PathBuf::from("chapters/batch.md"),
            line: 12,
            column: 1,
            kind: ClaimKind::Claim,
            words: words.into(),
            lhs: "5,440".into(),
            op: "≈".into(),
            rhs: "2,400".into(),
            tolerance: Some("10%".into()),
            lhs_value: 5440.0,
            rhs_value: 2400.0,
            unit: "".into(),
            holds,
            margin: (!holds).then(|| "the left side is 2.27× the right".to_string()),
            not_evaluated: None,
            lhs_from: Vec::new(),
            rhs_from: Vec::new(),
        }
    }

    fn report<'a>(
        claims: &'a [ClaimRecord],
        diags: &'a [Diagnostic],
        sources: &'a Sources,
    ) -> Report<'a> {
        Report {
            claims,
            diagnostics: diags,
            sources,
            deny_warnings: false,
        }
    }

    #[test]
    fn text_lists_failures_first_with_their_margin() {
        let claims = [claim("holds <fine>", true), claim("fails", false)];
        let sources = Sources::new();
        let text = report(&claims, &[], &sources).text(false);
        let fail = text.find("FAIL").unwrap();
        let ok = text.find("✓ ok").unwrap();
        assert!(fail < ok, "{text}");
        assert!(text.contains("chapters/batch.md:12"));
        assert!(text.contains("5,440 ≈ 2,400 ± 10%  (the left side is 2.27× the right)"));
        assert!(
            text.ends_with("check FAILED: 2 claims (1 holds, 1 fails), 0 errors, 0 warnings\n"),
            "{text}"
        );
    }

    #[test]
    fn github_escapes_properties_and_data() {
        let claims = [claim("a, b: 100%\nnext", false)];
        let sources = Sources::new();
        let gh = report(&claims, &[], &sources).github();
        let first = gh.lines().next().unwrap();
        assert!(
            first.starts_with("::error file=chapters/batch.md,line=12,col=1,title=claim fails::"),
            "{first}"
        );
        assert!(first.contains("100%25%0Anext"), "{first}");
    }

    #[test]
    fn junit_escapes_and_counts() {
        let claims = [claim("x < y & \"z\"", false), claim("ok", true)];
        let sources = Sources::new();
        let xml = report(&claims, &[], &sources).junit();
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("x &lt; y &amp; &quot;z&quot;"));
    }

    /// Every character the formats must escape, in one string.
    const HOSTILE: &str = "a<b>&c\"d'e 100% f::g,h:i\r\nj\nk\u{1}l]]>";

    fn hostile_report_parts() -> (Vec<ClaimRecord>, Vec<Diagnostic>, Sources) {
        let mut c = claim(HOSTILE, false);
        c.chapter = HOSTILE.into();
        c.file = PathBuf::from("ch<&>,:%.md");
        c.lhs = "1.32 <&>".into();
        c.op = "<".into();
        c.rhs = "1 \"x\"".into();
        c.tolerance = Some("5% ::".into());
        c.margin = Some(HOSTILE.into());
        let mut sources = Sources::new();
        sources.insert("ch<&>,:%.md", "line one\nbad <&> here\n");
        let d = Diagnostic::error(Code::TypeMismatch, HOSTILE)
            .with_file("ch<&>,:%.md")
            .with_span(9..12)
            .with_help(HOSTILE);
        (vec![c, claim("fine", true)], vec![d], sources)
    }

    #[test]
    fn junit_is_well_formed_xml_whatever_the_claim_holds() {
        let (claims, diags, sources) = hostile_report_parts();
        let out = report(&claims, &diags, &sources).junit();
        let doc = roxmltree::Document::parse(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        let case = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase"))
            .unwrap();
        // The control character is dropped; everything else comes back as written.
        let expected = HOSTILE.replace('\u{1}', "");
        assert_eq!(
            case.attribute("name"),
            Some(format!("claim {expected}").as_str())
        );
        let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
        assert!(
            failure
                .text()
                .unwrap()
                .contains("1.32 <&> < 1 \"x\" ± 5% ::")
        );
        let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
        assert_eq!(error.attribute("message"), Some(expected.as_str()));
    }

    #[test]
    fn json_round_trips_whatever_the_claim_holds() {
        let (claims, diags, sources) = hostile_report_parts();
        let out = report(&claims, &diags, &sources).json();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["claims"][0]["words"], HOSTILE);
        assert_eq!(v["diagnostics"][0]["message"], HOSTILE);
    }

    /// GitHub's workflow-command grammar: `::name k=v,k=v::data`, with `%`, CR, LF escaped in data
    /// and also `:` and `,` in property values. Returns (name, properties, data) unescaped.
    fn parse_annotation(line: &str) -> (String, Vec<(String, String)>, String) {
        let rest = line.strip_prefix("::").expect("starts with ::");
        let (head, data) = rest.split_once("::").expect("a second ::");
        let (name, props) = head.split_once(' ').unwrap_or((head, ""));
        let unescape = |s: &str| {
            assert!(
                !s.contains('\n') && !s.contains('\r'),
                "raw line break in {s:?}"
            );
            s.replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%")
        };
        let props = props
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').expect("key=value");
                assert!(!v.contains(':'), "raw `:` in property {p:?}");
                (k.to_string(), unescape(v))
            })
            .collect();
        (name.to_string(), props, unescape(data))
    }

    #[test]
    fn github_annotations_parse_back_whatever_the_claim_holds() {
        let (claims, diags, sources) = hostile_report_parts();
        let out = report(&claims, &diags, &sources).github();
        let lines: Vec<&str> = out.lines().collect();
        // Two annotations and the total: no message spilled onto a line of its own.
        assert_eq!(lines.len(), 3, "{out}");
        let (name, props, data) = parse_annotation(lines[0]);
        assert_eq!(name, "error");
        assert!(
            props.contains(&("file".into(), "ch<&>,:%.md".into())),
            "{props:?}"
        );
        assert!(data.contains(HOSTILE), "{data:?}");
        let (_, props, data) = parse_annotation(lines[1]);
        assert!(props.contains(&("line".into(), "2".into())), "{props:?}");
        assert!(data.starts_with(HOSTILE), "{data:?}");
    }

    #[test]
    fn warnings_fail_only_when_denied() {
        let sources = Sources::new();
        let diags = [Diagnostic::warning(Code::UnlistedChapter, "careful")];
        let mut r = report(&[], &diags, &sources);
        assert!(r.ok());
        r.deny_warnings = true;
        assert!(!r.ok());
    }
}

//! Templates that cannot escape or run away.
//!
//! A book's own templates are code from the book, so they run under the same rules as its calc
//! blocks: no access to the environment or the file system (Tera's `get_env` is replaced by an
//! error; Tera 1.x has no other file or environment access once templates are added from text),
//! and limits instead of crashes. Tera has no recursion or loop limits, so:
//! - every `{% macro %}` and `{% for %}` body gets a call to a hidden guard function, inserted on the
//!   same line (line numbers stay true), which counts steps and measures the stack in use;
//! - each render runs on a thread with a large stack (in place on the book's render threads, which
//!   have one; on a thread of its own elsewhere), and the guard fails the render long before that
//!   stack is spent: a macro that calls itself forever is an error, not an abort;
//! - `range()` refuses more than [`MAX_RANGE`] items, and the guard stops a render after
//!   [`MAX_STEPS`] loop iterations and macro calls;
//! - bracket nesting inside a tag is capped before Tera's recursive parser sees it.
//!
//! [`locate`] turns a Tera error into a template name and a span (file:line).

use std::cell::Cell;
use std::collections::HashMap;
use std::ops::Range;

use tera::{Tera, Value};

/// Name of the hidden guard function.
const GUARD: &str = "__calcbook_guard";
/// Most items one `range()` may make.
pub const MAX_RANGE: u64 = 100_000;
/// Most loop iterations and macro calls in one render.
pub const MAX_STEPS: u64 = 2_000_000;
/// Stack of the render thread, and how much of it templates may use before the guard stops them.
const RENDER_STACK: usize = 256 << 20;
// Small enough that a template including itself stops within a few hundred levels: each level
// makes every variable lookup walk all frames above it, so depth costs quadratic time.
const STACK_ALLOWANCE: usize = 8 << 20;
/// Stack a thread must have left to render in place rather than start a thread: the allowance, and
/// ample room for what Tera does between two guard calls.
const IN_PLACE_ROOM: usize = 64 << 20;
/// Deepest nesting of brackets inside one tag.
pub const MAX_NESTING: usize = 64;

thread_local! {
    /// (address near the top of the render thread's stack, steps so far).
    static RENDER: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
}

/// Replaces Tera's functions that reach outside the template or can make unbounded work.
pub fn sandbox(tera: &mut Tera) {
    tera.register_function(
        "get_env",
        |_: &HashMap<String, Value>| -> tera::Result<Value> {
            Err(tera::Error::msg(
                "`get_env` is not available: templates cannot read the environment",
            ))
        },
    );
    tera.register_function("range", bounded_range);
    tera.register_function(GUARD, guard);
}

fn bounded_range(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let number = |key: &str, default: Option<u64>| -> tera::Result<u64> {
        match args.get(key) {
            Some(v) => v.as_u64().ok_or_else(|| {
                tera::Error::msg(format!(
                    "`range`: `{key}` must be a non-negative integer, not {v}"
                ))
            }),
            None => default
                .ok_or_else(|| tera::Error::msg(format!("`range` needs an `{key}` argument"))),
        }
    };
    let start = number("start", Some(0))?;
    let end = number("end", None)?;
    let step = number("step_by", Some(1))?;
    if step == 0 {
        return Err(tera::Error::msg("`range`: `step_by` cannot be 0"));
    }
    let count = end.saturating_sub(start).div_ceil(step);
    if count > MAX_RANGE {
        return Err(tera::Error::msg(format!(
            "`range` would make {count} items; templates are limited to {MAX_RANGE}"
        )));
    }
    count_steps(count)?;
    Ok(Value::Array(
        (start..end)
            .step_by(step as usize)
            .map(Value::from)
            .collect(),
    ))
}

fn count_steps(n: u64) -> tera::Result<()> {
    let (top, steps) = RENDER.with(Cell::get);
    let steps = steps.saturating_add(n);
    RENDER.with(|r| r.set((top, steps)));
    if steps > MAX_STEPS {
        return Err(tera::Error::msg(format!(
            "the template ran more than {MAX_STEPS} loop iterations and macro calls"
        )));
    }
    Ok(())
}

fn guard(_: &HashMap<String, Value>) -> tera::Result<Value> {
    let marker = 0u8;
    let here = std::ptr::addr_of!(marker) as usize;
    let (top, _) = RENDER.with(Cell::get);
    if top != 0 && top.abs_diff(here) > STACK_ALLOWANCE {
        return Err(tera::Error::msg(
            "templates nest too deeply: does a macro call itself without end?",
        ));
    }
    count_steps(1)?;
    Ok(Value::String(String::new()))
}

/// Renders `name` on a thread with a large stack, under the guard's limits: this one if it has the
/// room (a thread per page cost more than templating the page), else a new one.
pub fn render(tera: &Tera, name: &str, ctx: &tera::Context) -> tera::Result<String> {
    if stacker::remaining_stack().is_some_and(|left| left > IN_PLACE_ROOM) {
        let marker = 0u8;
        let outer = RENDER.with(Cell::get);
        RENDER.with(|r| r.set((std::ptr::addr_of!(marker) as usize, 0)));
        let rendered =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tera.render(name, ctx)));
        RENDER.with(|r| r.set(outer));
        return rendered
            .unwrap_or_else(|_| Err(tera::Error::msg("the template renderer panicked")));
    }
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("calcbook-template".into())
            .stack_size(RENDER_STACK)
            .spawn_scoped(s, || {
                let marker = 0u8;
                RENDER.with(|r| r.set((std::ptr::addr_of!(marker) as usize, 0)));
                tera.render(name, ctx)
            });
        match handle {
            Ok(h) => h
                .join()
                .unwrap_or_else(|_| Err(tera::Error::msg("the template renderer panicked"))),
            // No thread to spare: render here, still counted (the stack check is off).
            Err(_) => {
                RENDER.with(|r| r.set((0, 0)));
                tera.render(name, ctx)
            }
        }
    })
}

/// Adds the guard call to every `{% macro %}` and `{% for %}` body of `text`. Refuses a tag whose
/// brackets nest deeper than [`MAX_NESTING`] (returns its span).
pub fn instrument(text: &str) -> Result<String, Range<usize>> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut copied = 0;
    let mut at = 0;
    let mut extends = false;
    while let Some(found) = text[at..].find('{') {
        let start = at + found;
        let rest = &text[start..];
        let closer = if rest.starts_with("{{") {
            "}}"
        } else if rest.starts_with("{%") {
            "%}"
        } else if rest.starts_with("{#") {
            "#}"
        } else {
            at = start + 1;
            continue;
        };
        let Some(len) = rest[2..].find(closer) else {
            break;
        };
        let end = start + 2 + len + 2;
        let inner = &text[start + 2..end - 2];
        if closer != "#}" && nesting(inner) > MAX_NESTING {
            return Err(start..end);
        }
        at = end;
        if closer != "%}" {
            continue;
        }
        let keyword = inner
            .trim_start_matches('-')
            .split_whitespace()
            .next()
            .unwrap_or("");
        match keyword {
            "extends" => extends = true,
            "raw" => {
                // Nothing inside a raw block is a tag.
                let Some(close) = find_endraw(&text[end..]) else {
                    break;
                };
                at = end + close;
            }
            "macro" | "for" => {
                out.push_str(&text[copied..end]);
                // `-%}` trims the text after the tag; keep that trim after the guard.
                let trim = if inner.ends_with('-') { "-" } else { "" };
                out.push_str(&format!("{{{{ {GUARD}() {trim}}}}}"));
                copied = end;
            }
            _ => {}
        }
    }
    out.push_str(&text[copied..]);
    // A template that includes itself recurses through no macro or loop: guard its start too
    // (not in a child template, whose text outside blocks Tera ignores or refuses).
    if !extends {
        let at = after_imports(&out);
        out.insert_str(at, &format!("{{{{ {GUARD}() }}}}"));
    }
    Ok(out)
}

/// The offset after the leading `{% import %}` tags (and comments, whitespace), which Tera wants
/// before anything else.
fn after_imports(text: &str) -> usize {
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        let ws = rest.len() - trimmed.len();
        let close = if trimmed.starts_with("{#") {
            trimmed.find("#}").map(|i| i + 2)
        } else if trimmed.starts_with("{%")
            && trimmed[2..]
                .trim_start_matches('-')
                .trim_start()
                .starts_with("import")
        {
            trimmed.find("%}").map(|i| i + 2)
        } else {
            None
        };
        match close {
            Some(len) => at += ws + len,
            None => return at,
        }
    }
}

fn find_endraw(text: &str) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = text[at..].find("{%") {
        let start = at + found;
        let close = text[start..].find("%}")? + start + 2;
        let inner =
            text[start + 2..close - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner == "endraw" {
            return Some(close);
        }
        at = close;
    }
    None
}

fn nesting(tag: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in tag.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The template and span a Tera error is about, and its message, from the error's chain of
/// causes. `texts` are the templates as written (name → text).
pub fn locate(
    e: &tera::Error,
    texts: &std::collections::BTreeMap<String, String>,
) -> (Option<String>, Option<Range<usize>>, String) {
    let mut chain = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    // A runaway macro is best shown at its definition.
    if let Some(found) = runaway_macro(&chain, texts) {
        return found;
    }
    let name = chain.iter().find_map(|m| {
        texts
            .keys()
            .find(|name| m.contains(&format!("'{name}'")) || m.contains(&format!("\"{name}\"")))
            .cloned()
    });
    let text = name.as_ref().and_then(|n| texts.get(n));
    let span = text.and_then(|text| {
        chain
            .iter()
            .find_map(|m| pest_position(m))
            .map(|(line, col)| {
                let start = crate::diagnostic::line_start(text, line);
                let line_len = text[start..].find('\n').unwrap_or(text.len() - start);
                let at = start + (col.saturating_sub(1)).min(line_len);
                at..(at + 1).min(start + line_len).max(at)
            })
            .or_else(|| {
                // A render error names the variable, macro or filter in backticks: point at it.
                let inner = chain.last()?;
                let word = inner.split('`').nth(1)?;
                let at = text.find(word)?;
                Some(at..at + word.len())
            })
    });
    (name, span, message_of(&chain))
}

/// The chain as one line: the parser's excerpt (ours replaces it) reduced to what it expected,
/// the guard's own name dropped.
fn message_of(chain: &[String]) -> String {
    chain
        .iter()
        .map(|m| match m.split_once("-->") {
            Some((before, after)) => {
                let expected = after
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("= "))
                    .collect::<Vec<_>>()
                    .join("; ");
                format!("{} {expected}", before.trim())
            }
            None => m.replace(&format!("Function call '{GUARD}' failed: "), ""),
        })
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}

/// For an error of the guard inside a macro: the template defining that macro and the span of
/// its name there.
fn runaway_macro(
    chain: &[String],
    texts: &std::collections::BTreeMap<String, String>,
) -> Option<(Option<String>, Option<Range<usize>>, String)> {
    if !chain.iter().any(|m| m.contains("nest too deeply")) {
        return None;
    }
    let call = chain
        .iter()
        .rev()
        .find_map(|m| m.split("rendering macro `").nth(1)?.split('`').next())?;
    let macro_name = call.rsplit("::").next()?;
    texts.iter().find_map(|(name, text)| {
        let at = text
            .match_indices("macro ")
            .map(|(i, _)| i + "macro ".len())
            .find(|&i| {
                text[i..].trim_start().starts_with(macro_name)
                    && text[i..].trim_start()[macro_name.len()..]
                        .trim_start()
                        .starts_with('(')
            })?;
        let at = at + (text[at..].len() - text[at..].trim_start().len());
        Some((
            Some(name.clone()),
            Some(at..at + macro_name.len()),
            format!("macro `{macro_name}` nests too deeply: does it call itself without end?"),
        ))
    })
}

/// `(line, column)` from a pest error's ` --> 3:5` line.
fn pest_position(message: &str) -> Option<(usize, usize)> {
    let after = message.split("--> ").nth(1)?;
    let pos = after.split_whitespace().next()?;
    let (line, col) = pos.split_once(':')?;
    Some((line.parse().ok()?, col.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_goes_after_macro_and_for_tags_only() {
        let text =
            "{% macro m(x) %}a{% endmacro %}{%- for i in xs -%} b{% endfor %}{% if x %}{% endif %}";
        let out = instrument(text).unwrap();
        assert_eq!(
            out,
            "{{ __calcbook_guard() }}{% macro m(x) %}{{ __calcbook_guard() }}a{% endmacro %}{%- for i in xs -%}{{ __calcbook_guard() -}} b{% endfor %}{% if x %}{% endif %}"
        );
        let raw = "{% extends \"x\" %}{% raw %}{% for x in y %}{% endraw %}";
        assert_eq!(instrument(raw).unwrap(), raw);
    }

    #[test]
    fn deep_bracket_nesting_in_a_tag_is_refused() {
        let text = format!("ok\n{{{{ {}1{} }}}}", "(".repeat(500), ")".repeat(500));
        assert_eq!(instrument(&text).unwrap_err().start, 3);
        assert!(instrument("{{ ((x)) }}").is_ok());
        assert_eq!(
            instrument("{# c #}\n{% import \"m.html\" as m %}\nx").unwrap(),
            "{# c #}\n{% import \"m.html\" as m %}{{ __calcbook_guard() }}\nx"
        );
    }
}

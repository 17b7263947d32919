//! `calcbook eval`: one expression evaluated in a book's scope, so an author can see a value
//! without building the book. The scope is the book's prelude (units, data records, engine
//! functions) and, with a chapter, every `calc` block of that chapter run in order first (a
//! statement that fails is skipped, as in the book, so one bad line does not hide the rest).

use crate::diagnostic::Code;
use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use crate::calc::{Figure, Scope, provenance};
use crate::diagnostic::{Diagnostic, Sources};
use crate::{book, engine, notebook};

/// A value as the book would show it, and the data figures it was computed from.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub display: String,
    pub from: Vec<Figure>,
}

/// The pseudo file an expression's diagnostics point into.
pub const EXPR_FILE: &str = "<expression>";

/// Evaluates `expr` in the scope of the book at `root`, after the calc blocks of `chapter` (a
/// path relative to the book root or to its source folder) if one is given. Errors come with the
/// sources they point into (the expression is [`EXPR_FILE`]).
pub fn eval_in_book(
    root: &Path,
    chapter: Option<&Path>,
    expr: &str,
) -> Result<Evaluation, (Vec<Diagnostic>, Sources)> {
    // One thread for everything, so provenance (noted per thread) follows the evaluation.
    crate::calc::with_big_stack(|| eval_here(root, chapter, expr))
}

fn eval_here(
    root: &Path,
    chapter: Option<&Path>,
    expr: &str,
) -> Result<Evaluation, (Vec<Diagnostic>, Sources)> {
    let mut sources = Sources::new();
    let book = book::load(root).map_err(|d| (vec![d], Sources::new()))?;
    let mut scope = Scope::new();
    engine::bindings::register(&mut scope);
    let data_rel = book.config.calcbook.data.clone();
    let options = notebook::data::DataOptions {
        require_sources: book.config.calcbook.require_sources,
    };
    let (mut data, diags) = notebook::data::load_with(
        &root.join(&data_rel),
        &data_rel,
        &mut scope,
        &mut sources,
        options,
    );
    let link = engine::link::link_records(&mut scope, &mut data, &sources);
    let errors: Vec<Diagnostic> = diags
        .into_iter()
        .chain(link)
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err((errors, sources));
    }
    if let Some(wanted) = chapter {
        let found = book
            .chapters
            .iter()
            .find(|c| c.source == wanted || c.src_rel == wanted);
        let Some(ch) = found else {
            let names: Vec<String> = book
                .chapters
                .iter()
                .map(|c| c.source.display().to_string())
                .collect();
            let d = Diagnostic::error(
                Code::UnknownChapter,
                format!("the book has no chapter `{}`", wanted.display()),
            )
            .with_help(format!("chapters: {}", names.join(", ")));
            return Err((vec![d], sources));
        };
        for block in calc_blocks(&ch.text) {
            scope.run_block(&block);
        }
    }
    sources.insert(Path::new(EXPR_FILE), expr.to_string());
    let (value, from) = provenance::collect(|| scope.eval_expr(expr));
    match value {
        Ok(v) => Ok(Evaluation {
            display: scope.format(&v),
            from,
        }),
        // A name whose definition failed in the chapter has no value: an error here, since
        // there is nothing to print.
        Err(d) if d.code == Code::DependsOnFailed => Err((
            vec![Diagnostic {
                severity: crate::diagnostic::Severity::Error,
                help: Some("`calcbook check` shows the error where it is defined".into()),
                ..d.with_file(EXPR_FILE)
            }],
            sources,
        )),
        Err(d) => Err((vec![d.with_file(EXPR_FILE)], sources)),
    }
}

/// The bodies of a chapter's ```` ```calc ```` blocks, in order.
fn calc_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(text, crate::render::markdown::options()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info.split(|c: char| c.is_whitespace() || c == ',').next();
                current = (lang == Some("calc")).then(String::new);
            }
            Event::Text(t) => {
                if let Some(body) = &mut current {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_calc_blocks_are_collected() {
        let text = "# A\n\n```calc\nx = 1\n```\n\n```rust\nlet y = 2;\n```\n\n```calc hidden\ny = x + 1\n```\n";
        assert_eq!(calc_blocks(text), vec!["x = 1\n", "y = x + 1\n"]);
    }
}

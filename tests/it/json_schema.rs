//! A JSON Schema validator for the subset of draft 2020-12 that `schema/check.schema.json` uses.
//!
//! Why not the `jsonschema` crate: it brought about forty crates (a second regex engine, big
//! integers, URI and e-mail parsers) into every fresh build of the test binary, for one schema.
//! This validator knows each keyword the schema uses and refuses any other, so the schema cannot
//! grow a keyword that is silently ignored here; its own tests below show it rejects each kind of
//! violation.

use serde_json::Value;

/// Keywords that only annotate (they never make a document invalid).
const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description", "$defs"];

/// Every way `doc` breaks `schema`, as `path: reason` lines (empty when it conforms).
pub fn violations(schema: &Value, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(schema, schema, doc, "$", &mut out);
    out
}

fn check(root: &Value, schema: &Value, doc: &Value, path: &str, out: &mut Vec<String>) {
    let Some(rules) = schema.as_object() else {
        panic!("schema at {path} is not an object");
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => check(root, resolve(root, rule), doc, path, out),
            "type" => {
                let allowed: Vec<&str> = match rule {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("`type` at {path} is neither a string nor a list"),
                };
                if !allowed.iter().any(|t| has_type(doc, t)) {
                    out.push(format!("{path}: expected {allowed:?}, found {doc}"));
                }
            }
            "const" if doc != rule => out.push(format!("{path}: expected {rule}, found {doc}")),
            "enum" if !rule.as_array().is_some_and(|options| options.contains(doc)) => {
                out.push(format!("{path}: {doc} is not one of {rule}"));
            }
            "const" | "enum" => {}
            "minimum" => {
                if let (Some(n), Some(min)) = (doc.as_f64(), rule.as_f64())
                    && n < min
                {
                    out.push(format!("{path}: {n} is below the minimum {min}"));
                }
            }
            "pattern" => {
                if let Some(text) = doc.as_str()
                    && !matches_class_pattern(rule.as_str().unwrap_or_default(), text)
                {
                    out.push(format!("{path}: {text:?} does not match {rule}"));
                }
            }
            "oneOf" => {
                let options = rule.as_array().expect("oneOf is a list");
                let passing = options
                    .iter()
                    .filter(|option| violations_at(root, option, doc, path).is_empty())
                    .count();
                if passing != 1 {
                    out.push(format!(
                        "{path}: {passing} of the oneOf options match, not 1"
                    ));
                }
            }
            "required" => {
                for name in rule.as_array().expect("required is a list") {
                    let name = name.as_str().expect("required names are strings");
                    if doc.is_object() && doc.get(name).is_none() {
                        out.push(format!("{path}: missing `{name}`"));
                    }
                }
            }
            "properties" => {
                let Some(fields) = doc.as_object() else {
                    continue;
                };
                for (name, sub) in rule.as_object().expect("properties is an object") {
                    if let Some(value) = fields.get(name) {
                        check(root, sub, value, &format!("{path}.{name}"), out);
                    }
                }
            }
            "additionalProperties" => {
                let Some(fields) = doc.as_object() else {
                    continue;
                };
                let known = rules.get("properties").and_then(Value::as_object);
                for (name, value) in fields {
                    if known.is_some_and(|k| k.contains_key(name)) {
                        continue;
                    }
                    match rule {
                        Value::Bool(false) => out.push(format!("{path}: unexpected `{name}`")),
                        Value::Bool(true) => {}
                        sub => check(root, sub, value, &format!("{path}.{name}"), out),
                    }
                }
            }
            "items" => {
                for (i, item) in doc.as_array().into_iter().flatten().enumerate() {
                    check(root, rule, item, &format!("{path}[{i}]"), out);
                }
            }
            other => {
                panic!("schema keyword `{other}` at {path} is not supported by this validator")
            }
        }
    }
}

fn violations_at(root: &Value, schema: &Value, doc: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    check(root, schema, doc, path, &mut out);
    out
}

fn resolve<'a>(root: &'a Value, reference: &Value) -> &'a Value {
    let reference = reference.as_str().expect("$ref is a string");
    let pointer = reference
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("only local references are supported, not {reference}"));
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} points at nothing"))
}

fn has_type(doc: &Value, name: &str) -> bool {
    match name {
        "object" => doc.is_object(),
        "array" => doc.is_array(),
        "string" => doc.is_string(),
        "boolean" => doc.is_boolean(),
        "null" => doc.is_null(),
        "number" => doc.is_number(),
        "integer" => doc.is_i64() || doc.is_u64(),
        other => panic!("unknown JSON type `{other}`"),
    }
}

/// `^[...]+$` patterns, the only shape the schema uses; any other pattern is refused loudly.
fn matches_class_pattern(pattern: &str, text: &str) -> bool {
    let class = pattern
        .strip_prefix("^[")
        .and_then(|p| p.strip_suffix("]+$"))
        .unwrap_or_else(|| panic!("pattern {pattern} is not of the form ^[...]+$"));
    let chars: Vec<char> = class.chars().collect();
    let in_class = |c: char| {
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                if (chars[i]..=chars[i + 2]).contains(&c) {
                    return true;
                }
                i += 3;
            } else {
                if chars[i] == c {
                    return true;
                }
                i += 1;
            }
        }
        false
    };
    !text.is_empty() && text.chars().all(in_class)
}

/// The published schema of `calcbook check --format json`.
pub fn check_report_schema() -> Value {
    serde_json::from_str(include_str!("../../schema/check.schema.json")).expect("schema is JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn diagnostic() -> Value {
        json!({
            "severity": "error", "code": "unknown-unit", "message": "m", "file": null,
            "start": {"line": 1, "column": 1, "offset": 0}, "end": null,
            "label": null, "help": null, "notes": []
        })
    }

    fn def_violations(def: &str, doc: &Value) -> Vec<String> {
        let schema = check_report_schema();
        let sub = json!({"$ref": format!("#/$defs/{def}"), "$defs": schema["$defs"]});
        violations(&sub, doc)
    }

    /// The diagnostic with one field replaced (or removed, for `None`).
    fn diagnostic_with(field: &str, value: Option<Value>) -> Value {
        let mut doc = diagnostic();
        let fields = doc.as_object_mut().unwrap();
        match value {
            Some(v) => fields.insert(field.into(), v),
            None => fields.remove(field),
        };
        doc
    }

    #[test]
    fn a_conforming_diagnostic_has_no_violations() {
        assert_eq!(
            def_violations("diagnostic", &diagnostic()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_kind_of_violation_is_reported() {
        let cases = [
            ("missing `message`", diagnostic_with("message", None)),
            (
                "is not one of",
                diagnostic_with("severity", Some(json!("fatal"))),
            ),
            (
                "does not match",
                diagnostic_with("code", Some(json!("Unknown Unit"))),
            ),
            (
                "unexpected `extra`",
                diagnostic_with("extra", Some(json!(1))),
            ),
            (
                "0 of the oneOf",
                diagnostic_with("start", Some(json!({"line": 1}))),
            ),
            (
                "expected [\"array\"]",
                diagnostic_with("notes", Some(json!("a"))),
            ),
        ];
        for (reason, doc) in cases {
            let found = def_violations("diagnostic", &doc);
            assert!(
                found.iter().any(|v| v.contains(reason)),
                "expected a violation containing {reason:?}, got {found:?}"
            );
        }
        let below = json!({"line": 0, "column": 1, "offset": 0});
        let found = def_violations("position", &below);
        assert!(
            found.iter().any(|v| v.contains("below the minimum")),
            "{found:?}"
        );
    }
}

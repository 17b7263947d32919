//! The bundled book's print page: one document with unique ids, links that stay inside it,
//! contents numbered as the sidebar numbers them, and folded calculations printed open.

use crate::search_index::bundled_site;

fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    html.split(&format!(" {attr}=\""))
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect()
}

#[test]
fn print_page_ids_are_unique_and_its_links_stay_inside_it() {
    let print = std::fs::read_to_string(bundled_site().join("print.html")).unwrap();
    let mut ids = std::collections::HashSet::new();
    for id in attr_values(&print, "id") {
        assert!(ids.insert(id), "id {id} repeats on the print page");
    }
    for href in attr_values(&print, "href") {
        if let Some(id) = href.strip_prefix('#') {
            assert!(ids.contains(id), "link to #{id} has no target");
        } else {
            // What may leave the page: other sites, the stylesheet, the home page, CSV downloads.
            assert!(
                href.contains("://")
                    || href.ends_with(".css")
                    || href.ends_with(".csv")
                    || href == "index.html",
                "link {href} leaves the print page"
            );
        }
    }
}

#[test]
fn print_contents_number_chapters_as_the_sidebar_does_and_calculations_unfold() {
    let print = std::fs::read_to_string(bundled_site().join("print.html")).unwrap();
    // The Overview is not chapter 1: the first numbered entry is the first chapter.
    assert!(print.contains("<li><a href=\"#page-index\">Overview</a></li>"));
    assert!(print.contains(
        "<a href=\"#page-roofline\"><span class=\"print-number\">1.</span> Introduction and the roofline</a>"
    ));
    assert!(print.contains("<details open class=\"calc-details\">"));
    assert!(!print.contains("<details class=\"calc-details\">"));
}

//! Traceable numbers in the bundled book: a value opens a card naming the data entries its
//! expression reads, each linking to an entry that exists on the data-sources page, and data
//! names in calc blocks link there too.

use crate::search_index::bundled_site;

fn page(name: &str) -> String {
    std::fs::read_to_string(bundled_site().join(name)).unwrap()
}

#[test]
fn a_traced_value_links_to_its_data_entry_on_the_sources_page() {
    let batch = page("batch.html");
    let sources = page("sources.html");
    let card = batch
        .split("<span class=\"trace-card\"")
        .skip(1)
        .find(|c| c.contains("hardware.h100"))
        .expect("a value traced to hardware.h100");
    assert!(
        card.contains(
            "<a class=\"data-ref\" href=\"sources.html#hardware-h100\">hardware.h100</a>"
        ),
        "{card}"
    );
    assert!(sources.contains("id=\"hardware-h100\""));
    // An inline value's card also names each figure it read, linked to that figure's own row.
    let read_from = batch
        .split("<span class=\"trace-card\"")
        .skip(1)
        .filter_map(|c| c.split("Read from</span>").nth(1))
        .find(|r| r.contains("hardware-h100."))
        .expect("an inline value's card lists the hardware.h100 figures it read");
    assert!(
        read_from.contains("href=\"sources.html#hardware-h100.")
            && read_from.contains("data/hardware.yaml:"),
        "{read_from}"
    );
    // Every data link on every chapter reaches an entry.
    for name in ["batch.html", "roofline.html", "pricing.html", "racks.html"] {
        for link in page(name)
            .split("class=\"data-ref\" href=\"sources.html#")
            .skip(1)
        {
            let id = &link[..link.find('"').unwrap()];
            assert!(sources.contains(&format!("id=\"{id}\"")), "{name}: #{id}");
        }
    }
}

#[test]
fn data_names_in_calc_blocks_link_to_the_sources_page() {
    let batch = page("batch.html");
    assert!(batch.contains(
        "<a class=\"data-ref\" href=\"sources.html#models-deepseek_v3\" title=\"models.deepseek_v3 on the data sources page\"><span class=\"cb-name\">models</span>"
    ));
}

#[test]
fn traced_value_ids_are_unique_on_the_print_page() {
    let print = page("print.html");
    let mut ids = std::collections::HashSet::new();
    for part in print.split("popovertarget=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        assert!(ids.insert(id.to_string()), "popover id {id} repeats");
    }
    assert!(ids.len() > 20);
}

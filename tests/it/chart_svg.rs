//! Snapshot tests of chart SVG and table HTML from hand-built resolved data, and the ids of several
//! figures rendered onto one page.

use crate::chart_fixtures;

use calcbook::chart::*;
use chart_fixtures::*;

#[test]
fn line_chart_with_log_axes_and_marks() {
    insta::assert_snapshot!(render_figure(&line_log_marks(), 1, "ch1-fig-1.csv"));
}

#[test]
fn stacked_bar_chart() {
    insta::assert_snapshot!(render_figure(&stacked(), 2, "ch1-fig-2.csv"));
}

#[test]
fn grouped_bar_chart() {
    insta::assert_snapshot!(render_figure(&grouped(), 3, "ch1-fig-3.csv"));
}

#[test]
fn scatter_chart() {
    insta::assert_snapshot!(render_figure(&scatter(), 4, "ch1-fig-4.csv"));
}

#[test]
fn table_html() {
    insta::assert_snapshot!(render_table(&chips_table(), 1));
}

#[test]
fn csv_of_each_kind() {
    insta::assert_snapshot!(
        "csv",
        [stacked(), grouped(), scatter()]
            .iter()
            .map(csv)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn svg_is_themed_and_accessible() {
    let svg = render_svg(&line_log_marks(), "fig-step-time");
    assert!(svg.starts_with(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 440\" width=\"100%\""
    ));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains("aria-labelledby=\"fig-step-time-title fig-step-time-desc\""));
    assert!(
        svg.contains("<title id=\"fig-step-time-title\">Decode step time vs batch size</title>")
    );
    assert!(svg.contains("Vertical line at 2400 tokens (300 × sparsity)"));
    assert!(svg.contains("var(--chart-1)") && svg.contains("var(--chart-grid)"));
    // No concrete colour survives: every colour comes from the theme.
    for bad in ["fill=\"#", "stroke=\"#", "font-family=\"sans-serif\""] {
        assert!(!svg.contains(bad), "{bad} in svg");
    }
    // Tick labels are SI-style decades.
    for label in [">1<", ">10<", ">100<", ">1k<", ">10k<"] {
        assert!(
            svg.replace('\n', "").contains(label),
            "missing tick {label}"
        );
    }
    // Text is at least 12 units tall at the default 720-unit width.
    for size in svg.split("font-size=\"").skip(1) {
        let v: f64 = size[..size.find('"').unwrap()].parse().unwrap();
        assert!(v >= 12.0, "font-size {v}");
    }
}

/// The figures of one page together: every `id` (figure anchors, SVG titles and descriptions
/// that `aria-labelledby` points at, the wide and narrow drawings) is unique, so links and screen
/// readers find the right one.
#[test]
fn figures_on_one_page_have_distinct_ids() {
    let page = format!(
        "{}{}{}{}{}",
        render_figure(&line_log_marks(), 1, "ch1-fig-1.csv"),
        render_figure(&stacked(), 2, "ch1-fig-2.csv"),
        render_table(&chips_table(), 1),
        render_figure(&grouped(), 3, "ch1-fig-3.csv"),
        render_figure(&scatter(), 4, "ch1-fig-4.csv"),
    );
    let ids: Vec<&str> = page
        .split(" id=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(ids.len() >= 20, "{ids:?}");
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        assert!(seen.insert(*id), "id `{id}` appears twice on the page");
    }
    // Every `aria-labelledby` / `aria-describedby` target exists on the page.
    for attr in ["aria-labelledby=\"", "aria-describedby=\""] {
        for rest in page.split(attr).skip(1) {
            for target in rest[..rest.find('"').unwrap()].split_whitespace() {
                assert!(seen.contains(target), "{attr}{target} points at nothing");
            }
        }
    }
}

#[test]
fn captions_without_text_have_no_dangling_colon() {
    let mut table = chips_table();
    table.caption = None;
    let html = render_table(&table, 2);
    assert!(html.contains("<span class=\"table-number\">Table 2</span></figcaption>"));
    table.caption = Some("  ".into());
    assert!(!render_table(&table, 2).contains("Table 2:"));

    let mut chart = grouped();
    chart.caption = None;
    chart.title = None;
    let html = render_figure(&chart, 5, "x.csv");
    assert!(html.contains("<span class=\"figure-number\">Figure 5</span> <a class=\"chart-csv\""));
    // A title is shown above the chart, never repeated as a caption.
    chart.title = Some("Prices".into());
    let html = render_figure(&chart, 5, "x.csv");
    assert!(html.contains("<p class=\"chart-title\">Prices</p>"));
    assert!(!html.contains("Figure 5:"));
}

#[test]
fn a_figure_has_a_desktop_and_a_phone_drawing_with_its_labels_in_html() {
    let html = render_figure(&line_log_marks(), 1, "x.csv");
    let wide = html
        .split("<div class=\"chart-plot chart-wide\">")
        .nth(1)
        .unwrap();
    let narrow = html
        .split("<div class=\"chart-plot chart-narrow\">")
        .nth(1)
        .unwrap();
    assert!(wide.contains("viewBox=\"0 0 720 440\""));
    let narrow_w: u32 = narrow
        .split("viewBox=\"0 0 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(narrow_w, NARROW_WIDTH);
    // Ids stay unique: the phone drawing's title and description have their own.
    assert!(narrow.contains("aria-labelledby=\"fig-step-time-narrow-title"));
    // Title, legend and axis titles are HTML (they wrap), not SVG text (it shrinks).
    let head = html.split("<div class=\"chart-plot").next().unwrap();
    assert!(head.contains("<p class=\"chart-title\">Decode step time vs batch size</p>"));
    assert!(head.contains("<ul class=\"chart-legend\">"));
    assert!(head.contains("chart-y-title\">↑ Step time (ms)"));
    assert!(html.contains("<p class=\"chart-x-title\">"));
    for drawing in [wide, narrow] {
        let svg = &drawing[..drawing.find("</svg>").unwrap()];
        let drawn = svg.split("</desc>").nth(1).unwrap();
        assert!(!drawn.contains("Decode step time vs batch size"));
        assert!(!drawn.contains("Step time (ms)"));
    }
}

#[test]
fn long_category_labels_are_shortened_then_rotated() {
    // Five slots: parenthesised qualifiers go, the names fit on one line each.
    let mut chart = grouped();
    chart.categories = (0..5)
        .map(|i| format!("NVIDIA GB{i}00 (per GPU in an NVL72 rack, 1,200 W)"))
        .collect();
    for s in &mut chart.series {
        s.points = (0..5)
            .map(|i| Point::new(i as f64, 1.0 + i as f64))
            .collect();
    }
    let svg = render_svg(&chart, "fig-x").replace('\n', "");
    assert!(svg.contains(">NVIDIA GB100<"), "{svg}");
    // The full names stay in the description for screen readers.
    let (desc, drawn) = svg.split_once("</desc>").unwrap();
    assert!(desc.contains("NVIDIA GB100 (per GPU in an NVL72 rack, 1,200 W)"));
    assert!(!drawn.contains("NVL72"));
    assert!(!drawn.contains("rotate(-"));

    // Twelve long, unbreakable names cannot sit side by side: they are rotated instead.
    chart.categories = (0..12).map(|i| format!("Qwen3-235B-A22B-{i}")).collect();
    for s in &mut chart.series {
        s.points = (0..12)
            .map(|i| Point::new(i as f64, 1.0 + i as f64))
            .collect();
    }
    let svg = render_svg(&chart, "fig-x");
    assert_eq!(svg.matches("transform=\"rotate(-40").count(), 12);
    assert!(svg.contains(">\nQwen3-235B-A22B-11\n</text>"));
    // The chart grows taller for them rather than squeezing the plot.
    let h: i32 = svg.split("viewBox=\"0 0 720 ").nth(1).unwrap()[..3]
        .parse()
        .unwrap();
    assert!(h > 440, "height {h}");
    // Rotated labels are themed like every other text.
    assert!(!svg.contains("fill=\"#"));
}

#[test]
fn bars_on_a_log_axis_keep_their_smallest_bar() {
    let mut chart = grouped();
    chart.y.scale = Scale::Log;
    // The smallest bar is a round number the axis could otherwise start at.
    chart.series[2].points[0].y = 0.1;
    let svg = render_svg(&chart, "fig-x");
    let smallest = svg
        .lines()
        .filter(|l| l.starts_with("<rect") && l.contains("series-3"))
        .map(|l| {
            let h = l.split("height=\"").nth(1).unwrap();
            h[..h.find('"').unwrap()].parse::<i32>().unwrap()
        })
        .min()
        .unwrap();
    assert!(smallest >= 10, "smallest bar {smallest} units tall");
}

#[test]
fn microseconds_read_as_such() {
    let mut chart = line_log_marks();
    chart.y.unit = Some("us".into());
    let svg = render_svg(&chart, "fig-x");
    assert!(svg.contains("Step time (µs)"));
    assert!(!svg.contains("(us)"));
}

/// Bars on a log axis start at the decade below the smallest bar, and the figure says where
/// (issue #15: bars from an arbitrary 20 or 0.01 mislead).
#[test]
fn log_axis_bars_say_where_they_start() {
    let mut chart = grouped();
    chart.y.scale = Scale::Log;
    chart.y.label = Some("Bandwidth".into());
    let smallest = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.y))
        .fold(f64::INFINITY, f64::min);
    let decade = 10f64.powf(smallest.log10().floor());
    let html = render_figure(&chart, 1, "x.csv");
    let note = html
        .split("<span class=\"chart-axis-note\">(log scale; bars start at ")
        .nth(1)
        .expect("the figure names where its bars start");
    let shown = &note[..note.find(')').unwrap()];
    // The smallest bar is 0.125: the bars grow from 0.1.
    assert_eq!((smallest, decade), (0.125, 0.1));
    assert_eq!(shown, "0.1");
    // A linear axis needs no such note.
    assert!(!render_figure(&grouped(), 1, "x.csv").contains("chart-axis-note"));
}

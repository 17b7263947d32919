//! A notebook about something other than language models: a home battery and an electric car,
//! with its own data files in its own schema (kWh, km, kg, $/kWh), a chart sweeping a quantity and
//! a table. Issue #13: it must check clean, a renamed field must leave every claim reported, and a
//! changed figure must be named (file and line) by the claim it fails.

use crate::common::TestBook;
use crate::json_schema;

const BATTERIES: &str = "\
powerwall3:
  title: Home battery, 13.5 kWh class
  capacity: 13.5 kWh
  power: 11.5 kW
  price: 9300 $
  mass: 130 kg
  source: https://example.com/home-battery
";

const CARS: &str = "\
hatchback:
  title: Small electric hatchback
  battery: 60 kWh
  consumption: 160 Wh/km
  mass: 1850 kg
  charging: 11 kW
  source: https://example.com/hatchback
";

const TARIFFS: &str = "\
home:
  title: Time-of-use home tariff
  day: 0.30 $/kWh
  night: 0.10 $/kWh
  date_read: 2026-04
  source: https://example.com/tariff
";

const CHAPTER: &str = r#"# Battery and car

```calc
car = cars.hatchback
pack = batteries.powerwall3
range = car.battery / car.consumption
claim "A full charge drives over 350 km": range > 350 km
daily = 2 * 40 km * car.consumption
claim "The home battery covers a day's commute": pack.capacity > daily
saving = daily * (tariffs.home.day - tariffs.home.night) * 365
claim "Charging at night saves over $500 a year": saving > 500 $
payback = pack.price / (saving / year)
claim "The battery pays for itself within 12 years": payback < 12 years
claim "It stores about 100 Wh per kilogram": pack.capacity / pack.mass ≈ 100 Wh/kg ± 10%
kinetic = 0.5 * car.mass * (100 km/h)^2
claim "At 100 km/h the car carries under 1 MJ": kinetic < 1 MJ
full_charge = car.battery / car.charging
claim "A full charge at home takes under 6 hours": full_charge < 6 hours
kit = [{item: "car", stores: car.battery, mass: car.mass},
       {item: "home battery", stores: pack.capacity, mass: pack.mass}]
```

The car goes `= range in km` on a charge and its owner saves `= saving` a year.

```chart
id: tariff
title: Yearly saving against the day rate
x: {var: p, from: 0.2 $/kWh, to: 0.8 $/kWh, points: 7}
y: {unit: $}
series:
  - {label: saving, y: "daily * (p - tariffs.home.night) * 365"}
```

```table
id: kit
caption: The kit.
rows: kit
columns:
  Item: row.item
  Stores: "row.stores in kWh"
  Mass: "row.mass"
  Per kilogram: "row.stores / row.mass in Wh/kg"
```
"#;

fn book() -> TestBook {
    TestBook::new(&[
        ("src/SUMMARY.md", "- [Battery and car](car.md)\n"),
        ("src/car.md", CHAPTER),
        ("data/batteries.yaml", BATTERIES),
        ("data/cars.yaml", CARS),
        ("data/tariffs.yaml", TARIFFS),
    ])
}

const CLAIMS: usize = 7;

#[test]
fn a_home_energy_book_with_its_own_schema_checks_clean() {
    let book = book();
    book.run(&["check"])
        .assert_code(0)
        .assert_stdout_contains(&format!(
            "check ok: {CLAIMS} claims ({CLAIMS} hold, 0 fail), 0 errors, 0 warnings"
        ));
    book.build().assert_code(0);
    let page = book.page("car.html");
    // 60 kWh / 160 Wh/km = 375 km; 80 km × 0.16 kWh/km × $0.20 × 365 = $934.40, shown to 3 digits as $934.
    assert!(page.contains("375 km"), "{page}");
    assert!(page.contains("$934"), "{page}");
    // The sweep is over a price, and the axis is in the unit the sweep was written in.
    assert!(page.contains("$/kWh"), "the x axis names its unit");
    let csv = std::fs::read_to_string(book.out("car-fig-1.csv")).expect("the chart's points");
    // At p = 0.8 $/kWh: 12.8 kWh × 0.70 $/kWh × 365 = $3,270.40.
    assert!(csv.contains("0.8,") && csv.contains("3270.4"), "{csv}");
    // A shown value names the data figures behind it, beside its line and in prose.
    let from =
        "from data/cars.yaml:3 (hatchback.battery), data/cars.yaml:4 (hatchback.consumption)";
    assert!(
        page.contains(&format!("title=\"— {from}\">= <button"))
            && page.contains(">375 km</button>"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<span class=\"calc-from\" title=\"— {from}\"><button"
        )),
        "{page}"
    );
    // Each claim box folds the data it was computed from, linked to the sources page.
    assert!(page.contains("<details class=\"claim-data\">"), "{page}");
    // …each figure to its own row there.
    assert!(
        page.contains("href=\"sources.html#batteries-powerwall3."),
        "{page}"
    );
    // The claims ledger links each claim to the data entries behind it.
    let ledger = book.page("claims.html");
    assert!(
        ledger.contains("href=\"sources.html#cars-hatchback.charging\" title=\"data/cars.yaml:6\"><code>cars.<wbr>hatchback.<wbr>charging</code>"),
        "{ledger}"
    );
    let sources = book.page("sources.html");
    assert!(sources.contains("id=\"cars-hatchback\""), "{sources}");
    assert!(
        sources.contains("<tr id=\"cars-hatchback.charging\">"),
        "{sources}"
    );
    assert!(
        sources.contains("Small electric hatchback"),
        "a `title:` names the entry"
    );
    // The table: 13.5 kWh / 130 kg = 104 Wh/kg.
    assert!(
        page.contains("1,850 kg") && page.contains("104 Wh/kg"),
        "{page}"
    );
}

/// Issue #13: a typo in one data field name made claims vanish from every report. Renaming the
/// tariff's `night` field now leaves all seven claims reported, the two that depend on it as
/// not evaluated with the failed definition's location, and the root error said once.
#[test]
fn a_renamed_field_leaves_every_claim_reported_with_its_root_error_once() {
    let book = book();
    book.write("data/tariffs.yaml", &TARIFFS.replace("night:", "off_peak:"));

    let text = book.run(&["check"]);
    text.assert_code(1).assert_stdout_contains(&format!(
        "check FAILED: {CLAIMS} claims (5 hold, 0 fail, 2 not evaluated), 2 errors, 0 warnings"
    ));
    // `saving` (line 10) reads the field; the saving and payback claims (lines 11, 13) use it.
    for line in [11, 13] {
        let row = text
            .stdout
            .lines()
            .find(|l| l.contains(&format!("src/car.md:{line} ")))
            .unwrap_or_else(|| panic!("claim at line {line} missing:\n{}", text.stdout));
        assert!(row.contains("N/E"), "{row}");
        assert!(
            row.contains("depends on `saving`, whose definition failed at src/car.md:10:1"),
            "{row}"
        );
    }
    // One error where `saving` is defined (and one in the chart that reads the field itself),
    // each pointing at the data entry; no warning per dependent.
    assert_eq!(
        text.stdout.matches("error[unknown-field]").count(),
        2,
        "{}",
        text.stdout
    );
    assert_eq!(
        text.stdout.matches("src/car.md:10:").count(),
        3,
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("data/tariffs.yaml:1: the data entry `home`")
    );
    assert!(
        !text.stdout.contains("depends-on-failed"),
        "{}",
        text.stdout
    );

    // JSON: every claim, with its status and the cause's location.
    let json = book.run(&["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let claims = doc["claims"].as_array().unwrap();
    assert_eq!(claims.len(), CLAIMS);
    assert_eq!(doc["summary"]["not_evaluated"], 2);
    let unevaluated: Vec<&serde_json::Value> = claims
        .iter()
        .filter(|c| c["status"] == "not-evaluated")
        .collect();
    assert_eq!(unevaluated.len(), 2);
    for c in &unevaluated {
        assert_eq!(c["holds"], false);
        assert_eq!(c["not_evaluated"]["name"], "saving");
        assert_eq!(c["not_evaluated"]["file"], "src/car.md");
        assert_eq!(c["not_evaluated"]["line"], 10);
    }
    let errors = json_schema::violations(&json_schema::check_report_schema(), &doc);
    assert!(errors.is_empty(), "{errors:?}\n{}", json.stdout);

    // JUnit and GitHub: one case or annotation per claim that does not hold, with its line.
    let junit = book.run(&["check", "--format", "junit"]);
    assert_eq!(
        junit.stdout.matches("<testcase name=\"claim ").count(),
        CLAIMS
    );
    assert_eq!(junit.stdout.matches("type=\"not-evaluated\"").count(), 2);
    let github = book.run(&["check", "--format", "github"]);
    for line in [11, 13] {
        assert!(
            github.stdout.contains(&format!(
                "::error file=src/car.md,line={line},col=1,title=claim not evaluated::"
            )),
            "{}",
            github.stdout
        );
    }
}

/// Provenance: a claim that fails because one data figure changed names that figure's file and
/// line, in the text report and the JSON.
#[test]
fn a_failing_claim_names_the_data_figure_it_rests_on() {
    let book = book();
    // 60 kWh at 7 kW is 8.6 hours, over the claimed 6.
    book.write(
        "data/cars.yaml",
        &CARS.replace("charging: 11 kW", "charging: 7 kW"),
    );
    let text = book.run(&["check"]);
    text.assert_code(1).assert_stdout_contains(&format!(
        "check FAILED: {CLAIMS} claims ({} hold, 1 fails)",
        CLAIMS - 1
    ));
    let at = text.stdout.find("FAIL").expect("a failing row");
    let rows: String = text.stdout[at..]
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        rows.contains("A full charge at home takes under 6 hours"),
        "{rows}"
    );
    assert!(
        rows.contains("left side from data/cars.yaml:3 (hatchback.battery), data/cars.yaml:6 (hatchback.charging)"),
        "{rows}"
    );

    let json = book.run(&["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let failing = doc["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "fails")
        .expect("the failing claim");
    let from = failing["lhs"]["from"].as_array().unwrap();
    assert!(
        from.iter().any(|f| f["file"] == "data/cars.yaml"
            && f["line"] == 6
            && f["field"] == "hatchback.charging"),
        "{from:?}"
    );
    // A figure the claim does not rest on is not listed.
    assert!(
        !from.iter().any(|f| f["field"] == "hatchback.mass"),
        "{from:?}"
    );
}

/// `calcbook eval` prints a value in a chapter's scope, with the figures it came from, without
/// building the book; an unknown function name suggests the one that shares its word.
#[test]
fn eval_prints_a_value_in_a_chapters_scope() {
    let book = book();
    let root = book.root().to_str().unwrap().to_string();
    let run = book.run(&["eval", &root, "--chapter", "src/car.md", "range in km"]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("375 km\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("from data/cars.yaml:4 (hatchback.consumption)")
    );
    // Without a chapter, only the prelude: data records and units.
    let run = book.run(&["eval", &root, "cars.hatchback.battery / (160 Wh/km)"]);
    run.assert_code(0).assert_stdout_contains("375 km");
    let run = book.run(&["eval", &root, "daily"]);
    run.assert_code(1)
        .assert_stderr_contains("unknown name `daily`");
    assert!(!book.root().join("book").exists(), "eval writes nothing");
    let run = book.run(&["eval", &root, "chinchilla(70e9)"]);
    run.assert_code(1)
        .assert_stderr_contains("did you mean `chinchilla_tokens`?");
}

/// A data file of bare figures with one `source:` for the file: each figure is an entry.
#[test]
fn a_flat_file_of_figures_with_one_source_loads() {
    let book = TestBook::new(&[
        ("src/SUMMARY.md", "- [Lift](lift.md)\n"),
        (
            "src/lift.md",
            "# Lift\n\n```calc\nwork = 1850 kg * physics.g * 10 m\nclaim \"Lifting the car 10 m takes about 50 Wh\": work ≈ 50 Wh ± 2%\n```\n",
        ),
        (
            "data/physics.yaml",
            "source: https://example.com/constants\ng: 9.81 m/s^2\nwater_density: 1 kg/L\n",
        ),
    ]);
    book.run(&["check"])
        .assert_code(0)
        .assert_stdout_contains("check ok: 1 claim (1 holds, 0 fail), 0 errors, 0 warnings");
    // 1850 kg × 9.81 m/s² × 10 m = 181 kJ = 50.4 Wh, from line 2 of the file.
    let run = book.run(&["eval", "--chapter", "src/lift.md", "work in Wh"]);
    run.assert_code(0)
        .assert_stdout_contains("50.4 Wh")
        .assert_stdout_contains("from data/physics.yaml:2 (g)");
    book.build().assert_code(0);
    let sources = book.page("sources.html");
    assert!(sources.contains("water_density"), "{sources}");
    assert!(sources.contains("example.com/constants"), "{sources}");
}

/// An unsourced entry is a warning, unless the book sets `require-sources` (as the bundled book
/// does), when it is an error.
#[test]
fn require_sources_turns_a_missing_source_into_an_error() {
    let files = [
        ("src/SUMMARY.md", "- [A](a.md)\n"),
        ("src/a.md", "# A\n\n`= things.x.size`\n"),
        ("data/things.yaml", "x:\n  size: 3 m\n"),
    ];
    let book = TestBook::new(&files);
    book.run(&["check"])
        .assert_code(0)
        .assert_stdout_contains("warning[missing-source]: entry `x` has no `source:`");
    book.run(&["check", "--deny-warnings"]).assert_code(1);
    book.write(
        "book.toml",
        "[book]\ntitle = \"T\"\n\n[calcbook]\nrequire-sources = true\n",
    );
    book.run(&["check"])
        .assert_code(1)
        .assert_stdout_contains("error[missing-source]: entry `x` has no `source:`");
}

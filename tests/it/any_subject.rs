//! A notebook about something other than language models: a home battery and an electric car,
//! with its own data files in its own schema (kWh, km, kg, $/kWh), a chart sweeping a quantity and
//! a table. Issue #13: it must check clean, a renamed field must leave every claim reported, and a
//! changed figure must be named (file and line) by the claim it fails.

use crate::common::TestBook;

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
    // 60 kWh / 160 Wh/km = 375 km; 80 km × 0.16 kWh/km × $0.20 × 365 = $934.40.
    assert!(page.contains("375 km"), "{page}");
    assert!(page.contains("$934.40"), "{page}");
    // The sweep is over a price, and the axis is in the unit the sweep was written in.
    assert!(page.contains("$/kWh"), "the x axis names its unit");
    let csv = std::fs::read_to_string(book.out("car-fig-1.csv")).expect("the chart's points");
    // At p = 0.8 $/kWh: 12.8 kWh × 0.70 $/kWh × 365 = $3,270.40.
    assert!(csv.contains("0.8,") && csv.contains("3270.4"), "{csv}");
    // The table: 13.5 kWh / 130 kg = 104 Wh/kg.
    assert!(
        page.contains("1,850 kg") && page.contains("104 Wh/kg"),
        "{page}"
    );
}

//! The calc language for book authors: this module holds only this reference.
//!
//! # Statements (one per line)
//! ```text
//! name = expr                      # binds a name; the value is shown beside the line
//! expr                             # a bare expression: its value is shown
//! fn name(a, b=default) = expr     # a function; call as name(x, b=y)
//! claim "words": lhs < rhs         # verified when the book builds
//! refute "words": lhs < rhs        # holds when the condition is false
//! unit Mtok = 1e6 token            # a unit in terms of others
//! dimension currency_eur           # a new base dimension…
//! unit EUR: currency_eur           # …and its unit
//! # a comment, to the end of the line
//! ```
//! A statement continues on the next line when the line ends with an operator (`+`, `*`, `,`,
//! `(`, `:`, `=`, `and`, …), or when the next line is indented more than the statement's first
//! line (so a claim's condition goes on an indented line after `claim "…":`). One bad line does
//! not stop the others; lines using a name whose definition failed are skipped without a second
//! error.
//!
//! # Values
//! Quantities (`8 TB/s`, `$2.40/Mtok`, `10%`, `0.5`), booleans (`true`, `false`), strings
//! (`"…"`), lists (`[1 s, 2 s]`, indexed `xs[0]`, `xs[-1]`), ranges (`1..10`, inclusive;
//! `range(1 s, 10 s, 1 s)`; at most 100,000 elements), records (`{a: 1, b: 2 s}`, and the data
//! files; fields with `gpu.hbm.bandwidth`) and functions.
//!
//! # Operators, loosest first
//! `expr in unit` and `to N digits` (display: `x in ms`, `x in $/Mtok to 4 digits`, `x to 2 digits`);
//! `if c then a else b`; `or`; `and`; `not`; comparisons `< <= > >= == != ≈` (also `~=`;
//! `a ≈ b ± 10%` is relative, `a ≈ b ± 2 ms` absolute, `≈` alone allows 5%; `±` may be written
//! `+/-`; comparisons do not chain); `a..b`; `+ -`; `* /` (also `×`, `·`, `÷`); unary `-`; `^`
//! (also `**`, right-associative, binds tighter than unary minus: `-2^2` is -4); calls, `.field`,
//! `[index]`.
//!
//! # Units
//! A number followed by a unit is one quantity: `8 TB/s`, `989 TFLOP/s`, `2.40 $/hour`,
//! `$2.40/Mtok`. Inside a unit the `/` (or `*`, `^`) must touch the names: `1 Gb/s` is a unit,
//! `64 tokens / b` divides by the name `b`. `1 / 2 s` is one over two seconds. Unit names
//! standing alone are values too (`80 * GB`) when no name of that spelling is defined. After
//! `in`, units may be spaced and parenthesised: `x in kW * h`, `x in 1/s`.
//!
//! Base dimensions: the seven of SI (time, length, mass, current, temperature, amount, luminous
//! intensity), information (`B`/`byte`, `b`/`bit`: `b` is a bit, `B` a byte), FLOP, tokens and
//! money, and any a book declares. The prelude's units (SI base and derived with prefixes, `min`
//! to `year`, `mile`, `ft`, `inch`, `lb`, `oz`, `kWh`, `kcal`, `eV`, `bar`, `atm`, angles, `%`…)
//! are one table, [`super::units::prelude_units`], printed in the book's *How this book works*.
//! Metric prefixes `k M G T P E` and `m u µ n p` apply to the units marked metric; binary
//! `Ki Mi Gi Ti Pi Ei` to the information units. Declared units take no prefixes. Degrees
//! Celsius and Fahrenheit are functions (`celsius(20)`, `in_celsius(t)`), not units.
//!
//! # Built-in functions
//! `sqrt` (halves the dimension), `abs`, `log` (`ln`), `log2`, `log10`, `exp`, `ceil`, `floor`,
//! `round` (plain numbers: divide by a unit first, `ceil(x / GB)`), `min`/`max` (of arguments or
//! of one list), `sum`, `mean`, `len`, `range(start, end, step=1)`, `map(list, f)`.
//!
//! # Display
//! Three significant digits in a readable unit per dimension: `1.31 ms`, `2.3 hour`, `80 GB`,
//! `8 TB/s`, `989 TFLOP/s`, `281 FLOP/B`, `70.3 kB/token`, `700 W`, `2,400 tokens`,
//! `$2.40/Mtok`, `$2.00/hour`; money has three significant digits, cents from a dollar to a
//! hundred (`$22.50`), whole dollars above (`$1,230`), a power of ten when tiny
//! (`$3.06 × 10⁻¹⁰`); plain numbers are grouped (`2,400`), whole numbers below a million shown
//! exactly (`1,024`), large ones in words (`671 billion`); other dimensions in base units
//! (`3 B·s`). `in unit` shows the unit exactly as written.
//!
//! # Claims
//! The condition must be one comparison. Both sides are shown in one unit (the right side's, or
//! the unit asked for with `in`), with the verdict and a margin (`the left side is 17% below the
//! right (difference 0.31 ms)`, `12.7% apart, 2.67% beyond the ± 10% tolerance`).

//! Charts and tables: ```` ```chart ```` and ```` ```table ```` blocks.
//!
//! A block's YAML is parsed into a spec whose values are calc expressions ([`spec`]), the
//! expressions are evaluated in the chapter's scope into plain numbers in display units
//! ([`eval`]), and the resolved data is drawn: charts to inline SVG with plotters ([`svg`], with
//! tick and range arithmetic in [`scale`]), tables to HTML ([`table`]), chart data to CSV
//! ([`csv`]). `@fig:id` / `@tbl:id` cross-references in prose are resolved by [`refs`].
//!
//! This file holds the resolved data model: the contract between evaluation and rendering. Every
//! number in it is a finite `f64` in the axis' display unit; units are only labels here.

pub mod csv;
pub mod eval;
pub mod layout;
pub mod refs;
pub mod scale;
pub mod spec;
pub mod svg;
pub mod table;

pub use csv::csv;
pub use eval::{evaluate_chart, evaluate_table};
pub use layout::{Frame, NARROW_WIDTH};
pub use refs::{RefKind, RefTarget, resolve_refs};
pub use spec::{ChartSpec, TableSpec, parse_chart, parse_table};
pub use svg::{
    FigureView, PlotView, figure_ids, figure_view, render_figure, render_svg, render_svg_framed,
};
pub use table::{ResolvedTable, render_table};

/// The kind of chart: how series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartKind {
    /// Series are lines over a numeric x axis (often a sweep).
    #[default]
    Line,
    /// Series are side-by-side bars per category.
    Bar,
    /// Series are bars stacked on top of each other per category.
    Stacked,
    /// Series are labelled points over numeric x and y axes.
    Scatter,
}

impl ChartKind {
    pub const NAMES: [&'static str; 4] = ["line", "bar", "stacked", "scatter"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "line" => ChartKind::Line,
            "bar" => ChartKind::Bar,
            "stacked" => ChartKind::Stacked,
            "scatter" => ChartKind::Scatter,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ChartKind::Line => "line",
            ChartKind::Bar => "bar",
            ChartKind::Stacked => "stacked",
            ChartKind::Scatter => "scatter",
        }
    }

    /// Bar and stacked charts have categories on the x axis.
    pub fn is_categorical(self) -> bool {
        matches!(self, ChartKind::Bar | ChartKind::Stacked)
    }
}

/// Linear or logarithmic axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    #[default]
    Linear,
    Log,
}

/// Which y axis a series or mark is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    #[default]
    Left,
    Right,
}

/// One resolved axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    /// What the axis measures (`Step time`).
    pub label: Option<String>,
    /// The display unit the numbers are in (`ms`); `None` for plain numbers.
    pub unit: Option<String>,
    pub scale: Scale,
    /// Fixed ends of the axis; `None` picks a range that holds the data.
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Axis {
    /// The axis title as drawn: `Step time (ms)`, `Step time`, `ms` or nothing.
    pub fn title(&self) -> Option<String> {
        match (&self.label, &self.unit) {
            (Some(l), Some(u)) if !u.is_empty() => Some(format!("{l} ({u})")),
            (Some(l), _) => Some(l.clone()),
            (None, Some(u)) if !u.is_empty() => Some(u.clone()),
            _ => None,
        }
    }
}

/// One data point. For bar and stacked charts `x` is the category index.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// A label drawn beside the point (scatter charts).
    pub label: Option<String>,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y, label: None }
    }

    pub fn labelled(x: f64, y: f64, label: impl Into<String>) -> Self {
        Point {
            x,
            y,
            label: Some(label.into()),
        }
    }
}

/// One resolved series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub label: String,
    pub axis: Side,
    /// Draw the line dashed (line charts).
    pub dash: bool,
    pub points: Vec<Point>,
}

/// Which axis a band spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandAxis {
    X,
    Y,
}

/// An annotation drawn over the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// A vertical line at `x`.
    XLine { x: f64, label: Option<String> },
    /// A horizontal line at `y` on the `axis` side.
    YLine {
        y: f64,
        axis: Side,
        label: Option<String>,
    },
    /// A labelled point.
    Point {
        x: f64,
        y: f64,
        axis: Side,
        label: Option<String>,
    },
    /// A shaded band between two values of one axis.
    Band {
        along: BandAxis,
        from: f64,
        to: f64,
        axis: Side,
        label: Option<String>,
    },
    /// Free text anchored at a data position.
    Note {
        x: f64,
        y: f64,
        axis: Side,
        text: String,
    },
}

/// A chart with every value evaluated: what [`svg::render_figure`] and [`csv::csv`] draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedChart {
    /// Author id (`step-time`): the figure's anchor is `fig-{id}`.
    pub id: Option<String>,
    pub title: Option<String>,
    pub caption: Option<String>,
    pub kind: ChartKind,
    pub x: Axis,
    pub y: Axis,
    pub y2: Option<Axis>,
    /// Category names of bar and stacked charts, indexed by `Point::x`.
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub marks: Vec<Mark>,
    /// Size of the SVG's coordinate system; it scales to the page width.
    pub width: u32,
    pub height: u32,
}

/// Default SVG width in user units (about the width of the text column).
pub const DEFAULT_WIDTH: u32 = 720;
/// Default SVG height.
pub const DEFAULT_HEIGHT: u32 = 440;

impl Default for ResolvedChart {
    fn default() -> Self {
        ResolvedChart {
            id: None,
            title: None,
            caption: None,
            kind: ChartKind::Line,
            x: Axis::default(),
            y: Axis::default(),
            y2: None,
            categories: Vec::new(),
            series: Vec::new(),
            marks: Vec::new(),
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
        }
    }
}

impl ResolvedChart {
    /// The HTML id of the figure: `fig-{id}`, or `fig-{number}` without an author id.
    pub fn anchor(&self, number: usize) -> String {
        match &self.id {
            Some(id) => format!("fig-{id}"),
            None => format!("fig-{number}"),
        }
    }
}

pub(crate) use crate::html::escape;

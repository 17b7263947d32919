//! The engine's schema: the typed records its functions take (a model, a chip or system, a memory
//! tier, an API price), decoded from a book's data records.
//!
//! The data loader ([`crate::notebook::data`]) knows no engine field: it turns `data/*.yaml` into
//! calc records whose figures are quantities read with the calc unit parser (`8 TB/s` is a
//! bandwidth, `141 GB` a size), each figure remembering its file and line. This module is the
//! engine's side of that contract: which fields a model or a chip has, of which dimension, which
//! are required. [`attach_decoded`] decodes every data entry once, after loading, and attaches
//! the typed form to the entry's record, so an engine function called at each of 100,000 points of
//! a chart sweep takes the typed record instead of looking up twenty fields again. A record built
//! in calc (or one the load-time decoding rejected) is decoded where it is used, with the same
//! messages, so an error still names the entry, the field and the data line it came from.
//!
//! A decoded record keeps the data figures it was decoded from; using it notes them
//! ([`crate::calc::provenance`]), so a claim still lists the data lines it rests on.

use std::sync::Arc;

use crate::calc::provenance::{self, Figure};
use crate::calc::{Dim, Origin, Registry, Value};
use crate::engine::hardware::{Chip, PeakFlops};
use crate::engine::model::{Attention, Model, Moe, SlidingWindow};

/// A model record: the engine's [`Model`] and its native bytes per weight, if the record says.
#[derive(Debug)]
pub struct ModelRecord {
    pub model: Model,
    /// `weight_bytes` as written (`None`: the model has no native precision in the data).
    pub weight_bytes: Option<f64>,
    entry: EntryInfo,
    figures: Vec<Figure>,
}

/// A hardware record (one chip) or a system record (chips of one kind), as a [`Chip`] with what
/// the chip's record left out.
#[derive(Debug)]
pub struct HwRecord {
    pub chip: Chip,
    /// A system's chip count (`None` for a single chip).
    pub chips: Option<u32>,
    has_scale_up: bool,
    has_domain: bool,
    /// `scale_up.bandwidth_per_direction` where the record states it.
    per_direction: Option<f64>,
    /// `hbm.usable` (what software can allocate) with the figure it was read from.
    usable: Option<(f64, Vec<Figure>)>,
    entry: EntryInfo,
    figures: Vec<Figure>,
}

/// One memory device's capacity and bandwidth: a memory tier, or a chip's (system's per-chip) HBM.
#[derive(Debug)]
pub struct TierRecord {
    pub capacity: f64,
    pub bandwidth: f64,
    figures: Vec<Figure>,
}

/// An API's output price and, where it has one, its fast tier (price and speed-up).
#[derive(Debug)]
pub struct PricingRecord {
    /// Standard output price, $/token.
    pub output: f64,
    /// Fast-tier output price ($/token) and its speed-up, where the record has a fast tier.
    pub fast: Option<(f64, f64)>,
    entry: EntryInfo,
    figures: Vec<Figure>,
}

/// What messages need of the entry a record came from.
#[derive(Debug, Clone)]
struct EntryInfo {
    /// "model", "hardware", "system", "memory tier", "pricing".
    kind: &'static str,
    name: String,
    /// For a system: its chip's name.
    chip_name: Option<String>,
    /// The record as loaded, without the typed forms attached to it (so no cycle of `Arc`s).
    value: Value,
}

impl EntryInfo {
    /// The error for a field the record lacks (see [`Entry::missing`]).
    fn missing(&self, path: &str) -> String {
        match &self.chip_name {
            Some(chip) => format!(
                "system {:?}: its chip {chip:?} has no field `{path}`",
                self.name
            ),
            None => missing(self.kind, &self.name, &self.value, path),
        }
    }
}

/// The typed forms of one data entry, attached to its record at load ([`attach_decoded`]).
#[derive(Debug, Default)]
pub struct Decoded {
    model: Option<Arc<ModelRecord>>,
    hw: Option<Arc<HwRecord>>,
    tier: Option<Arc<TierRecord>>,
    pricing: Option<Arc<PricingRecord>>,
}

/// Decodes every entry of every data file in every form it has (a record may be both a chip and
/// a memory tier) and attaches the typed forms to the entry's record. An entry that is no engine
/// record, or that a decoder rejects, is left as it is: the engine reports the problem where a
/// function reads it, with the field and its line.
pub fn attach_decoded(file: &Value) -> Value {
    let Value::Record(entries) = file else {
        return file.clone();
    };
    let fields = entries
        .fields
        .iter()
        .map(|(id, entry)| (id.clone(), attach_one(entry)))
        .collect();
    let mut record = (**entries).clone();
    record.fields = fields;
    Value::Record(Arc::new(record))
}

fn attach_one(entry: &Value) -> Value {
    if !matches!(entry, Value::Record(_)) {
        return entry.clone();
    }
    // Decoding notes figures and may blame an entry; neither concerns anyone at load time.
    let (decoded, _) = provenance::collect(|| Decoded {
        model: decode_model(entry, "model").ok().map(Arc::new),
        hw: decode_hw(entry, "hw").ok().map(Arc::new),
        tier: decode_tier(entry, "tier").ok().map(Arc::new),
        pricing: decode_pricing(entry, "price").ok().map(Arc::new),
    });
    provenance::take_blame();
    let any = decoded.model.is_some()
        || decoded.hw.is_some()
        || decoded.tier.is_some()
        || decoded.pricing.is_some();
    if any {
        entry.clone().with_attached(Arc::new(decoded))
    } else {
        entry.clone()
    }
}

fn attached(v: &Value) -> Option<&Decoded> {
    v.attached::<Decoded>()
}

/// `v` as a model: its attached decoding, else decoded now.
pub fn model(v: &Value, param: &str) -> Result<Arc<ModelRecord>, String> {
    if let Some(m) = attached(v).and_then(|d| d.model.clone()) {
        provenance::note_figures(&m.figures);
        return Ok(m);
    }
    decode_model(v, param).map(Arc::new)
}

/// `v` as a chip or system.
pub fn hw(v: &Value, param: &str) -> Result<Arc<HwRecord>, String> {
    if let Some(h) = attached(v).and_then(|d| d.hw.clone()) {
        provenance::note_figures(&h.figures);
        return Ok(h);
    }
    decode_hw(v, param).map(Arc::new)
}

/// `v` as a memory device (a tier, or a chip's HBM).
pub fn tier(v: &Value, param: &str) -> Result<Arc<TierRecord>, String> {
    if let Some(t) = attached(v).and_then(|d| d.tier.clone()) {
        provenance::note_figures(&t.figures);
        return Ok(t);
    }
    decode_tier(v, param).map(Arc::new)
}

/// `v` as an API price.
pub fn pricing(v: &Value, param: &str) -> Result<Arc<PricingRecord>, String> {
    if let Some(p) = attached(v).and_then(|d| d.pricing.clone()) {
        provenance::note_figures(&p.figures);
        return Ok(p);
    }
    decode_pricing(v, param).map(Arc::new)
}

/// Runs a decoder, keeping the figures it read (and noting them, as a direct read would).
fn with_figures<T>(f: impl FnOnce() -> Result<T, String>) -> Result<(T, Vec<Figure>), String> {
    let (r, figures) = provenance::collect(f);
    r.map(|t| (t, figures))
}

fn decode_model(v: &Value, param: &str) -> Result<ModelRecord, String> {
    let e = Entry::new(
        v,
        param,
        "model",
        "a model record (like `models.deepseek_v3`)",
    )?;
    if !e.has("params_total") && !e.has("layers") {
        return Err(format!(
            "`{param}` must be a model record (like `models.deepseek_v3`), found {}, which has \
             no `params_total` or `layers`",
            describe(v)
        ));
    }
    let ((model, weight_bytes), figures) = with_figures(|| {
        let weight_bytes = e.number_opt("weight_bytes")?;
        let layers = e.int("layers")?;
        let model = Model {
            name: e.name.clone(),
            params_total: e.number("params_total")?,
            params_active: e.number("params_active")?,
            layers,
            hidden: e.int("hidden")?,
            attention: attention(&e)?,
            sliding_window: sliding_window(&e, layers)?,
            moe: experts(&e)?,
            weight_bytes: weight_bytes.unwrap_or(f64::NAN),
            training_tokens: e.tokens_opt("training_tokens")?,
        };
        Ok((model, weight_bytes))
    })?;
    Ok(ModelRecord {
        model,
        weight_bytes,
        entry: e.info(),
        figures,
    })
}

fn attention(e: &Entry) -> Result<Attention, String> {
    let kind = e.text("attention.kind")?;
    let heads = || e.int("attention.heads");
    let head_dim = || e.int("attention.head_dim");
    Ok(match kind.to_ascii_uppercase().as_str() {
        "MHA" => Attention::Mha {
            heads: heads()?,
            head_dim: head_dim()?,
        },
        "GQA" => Attention::Gqa {
            heads: heads()?,
            kv_heads: e.int("attention.kv_heads")?,
            head_dim: head_dim()?,
        },
        "MQA" => Attention::Mqa {
            heads: heads()?,
            head_dim: head_dim()?,
        },
        "MLA" => Attention::Mla {
            heads: heads()?,
            kv_lora_rank: e.int("attention.kv_lora_rank")?,
            qk_rope_head_dim: e.int("attention.qk_rope_head_dim")?,
            qk_nope_head_dim: e.int("attention.qk_nope_head_dim")?,
            v_head_dim: e.int("attention.v_head_dim")?,
        },
        other => {
            return Err(format!(
                "model {:?}: `attention.kind` must be MHA, GQA, MQA or MLA, found {other:?}",
                e.name
            ));
        }
    })
}

fn sliding_window(e: &Entry, layers: u32) -> Result<Option<SlidingWindow>, String> {
    if e.get("sliding_window").is_none() {
        return Ok(None);
    }
    let w = SlidingWindow {
        window: e.int("sliding_window.window")?,
        layers: e.int("sliding_window.layers")?,
    };
    if w.layers > layers {
        return Err(format!(
            "model {:?}: `sliding_window.layers` ({}) exceeds `layers` ({layers})",
            e.name, w.layers
        ));
    }
    Ok(Some(w))
}

fn experts(e: &Entry) -> Result<Option<Moe>, String> {
    if e.get("experts").is_none() {
        return Ok(None);
    }
    Ok(Some(Moe {
        routed: e.int("experts.routed")?,
        active: e.int("experts.active")?,
        shared: e.int_opt("experts.shared")?.unwrap_or(0),
        moe_layers: e.int("experts.moe_layers")?,
        expert_ffn: e.int("experts.expert_ffn")?,
    }))
}

impl ModelRecord {
    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// The error for a field this model's record lacks.
    pub fn missing(&self, path: &str) -> String {
        self.entry.missing(path)
    }

    /// The mixture-of-experts layout, or an error for a dense model.
    pub fn moe(&self) -> Result<&Moe, String> {
        self.model
            .moe
            .as_ref()
            .ok_or_else(|| format!("model {:?} is dense: it has no `experts`", self.entry.name))
    }
}

fn decode_hw(v: &Value, param: &str) -> Result<HwRecord, String> {
    let expected = "a hardware or system record (like `hardware.h100` or `systems.gb200_nvl72`)";
    let e = Entry::new(v, param, "hardware", expected)?;
    if let Some(Value::Str(chip_id)) = v.field("chip") {
        return decode_system(v, param, e, chip_id);
    }
    if !e.has("hbm") && !e.has("flops") {
        return Err(format!(
            "`{param}` must be {expected}, found {}, which has no `flops` or `hbm`",
            describe(v)
        ));
    }
    let usable = match with_figures(|| e.quantity_opt("hbm.usable", &Dim::information(), "GB"))? {
        (Some(x), figs) => Some((x, figs)),
        (None, _) => None,
    };
    // `hbm.usable` is noted where it is used, not wherever the chip is.
    let ((chip, up, per_direction, domain), figures) = with_figures(|| chip(&e))?;
    Ok(HwRecord {
        has_scale_up: up.is_some() || per_direction.is_some(),
        has_domain: domain.is_some(),
        per_direction,
        usable,
        chips: None,
        chip,
        entry: e.info(),
        figures,
    })
}

/// A chip and the link figures its record states: (chip, `scale_up.bandwidth`,
/// `scale_up.bandwidth_per_direction`, `scale_up.domain`).
type ChipFields = (Chip, Option<f64>, Option<f64>, Option<u32>);

fn chip(e: &Entry) -> Result<ChipFields, String> {
    let flop_rate = per(Dim::flop(), Dim::time());
    let bandwidth = per(Dim::information(), Dim::time());
    let flops = PeakFlops {
        bf16: e.quantity("flops.bf16", &flop_rate, "TFLOP/s")?,
        fp8: e.quantity_opt("flops.fp8", &flop_rate, "TFLOP/s")?,
        int8: e.quantity_opt("flops.int8", &flop_rate, "TFLOP/s")?,
        fp4: e.quantity_opt("flops.fp4", &flop_rate, "TFLOP/s")?,
    };
    let up = e.quantity_opt("scale_up.bandwidth", &bandwidth, "GB/s")?;
    let per_direction = e.quantity_opt("scale_up.bandwidth_per_direction", &bandwidth, "GB/s")?;
    let domain = e.int_opt("scale_up.domain")?;
    let power = per(Dim::energy(), Dim::time());
    let chip = Chip {
        name: e.name.clone(),
        flops,
        hbm_capacity: e.quantity("hbm.capacity", &Dim::information(), "GB")?,
        hbm_bandwidth: e.quantity("hbm.bandwidth", &bandwidth, "TB/s")?,
        // The engine halves the bidirectional figure; a stated one-way figure takes precedence.
        scale_up_bandwidth: per_direction.map(|p| 2.0 * p).or(up).unwrap_or(f64::NAN),
        scale_up_domain: domain.unwrap_or(1).max(1),
        scale_out_bandwidth: e.quantity_opt("scale_out.bandwidth", &bandwidth, "Gb/s")?,
        power: e.quantity_opt("power", &power, "W")?,
        price: e.quantity_opt("price", &per(Dim::money(), Dim::time()), "$/hour")?,
        year: e.int_opt("year")?,
    };
    Ok((chip, up, per_direction, domain))
}

/// A system: its linked chip record with the system's chip count and scale-up domain.
fn decode_system(v: &Value, param: &str, e: Entry, chip_id: &str) -> Result<HwRecord, String> {
    let sys = Entry {
        kind: "system",
        ..e
    };
    let Some(chip_record) = v.field("hardware") else {
        return Err(format!(
            "system {:?} names chip {chip_id:?} but has no `hardware` record linked to it (the \
             data loader links it from hardware.yaml); pass `hardware.{chip_id}` instead",
            sys.name
        ));
    };
    let (mut h, figures) = with_figures(|| {
        let mut h = decode_hw(chip_record, param)?;
        h.chips = Some(sys.int("chips")?);
        if let Some(domain) = sys.int_opt("scale_up_domain")? {
            h.chip.scale_up_domain = domain;
            h.has_domain = true;
        }
        Ok(h)
    })?;
    h.figures = figures;
    h.entry = EntryInfo {
        chip_name: Some(h.chip.name.clone()),
        ..sys.info()
    };
    Ok(h)
}

impl HwRecord {
    /// One-way scale-up bandwidth (the stated one, else half the bidirectional figure).
    pub fn scale_up_per_direction(&self) -> Result<f64, String> {
        if !self.has_scale_up {
            return Err(self.entry.missing("scale_up.bandwidth"));
        }
        Ok(self
            .per_direction
            .unwrap_or_else(|| self.chip.scale_up_per_direction()))
    }

    pub fn scale_out(&self) -> Result<f64, String> {
        self.chip
            .scale_out_bandwidth
            .ok_or_else(|| self.entry.missing("scale_out.bandwidth"))
    }

    /// HBM per chip that weights and KV caches can use: `hbm.usable` where the record states it
    /// (the figure is then noted as read), else `hbm.capacity`.
    pub fn usable_hbm(&self) -> f64 {
        match &self.usable {
            Some((x, figures)) => {
                provenance::note_figures(figures);
                *x
            }
            None => self.chip.hbm_capacity,
        }
    }

    /// The links an all-to-all over `chips` chips crosses must be known.
    pub fn check_all_to_all(&self, chips: u32) -> Result<(), String> {
        self.scale_up_per_direction()?;
        if !self.has_domain {
            return Err(self.entry.missing("scale_up.domain"));
        }
        if chips > self.chip.scale_up_domain && self.chip.scale_out_bandwidth.is_none() {
            return Err(format!(
                "{} chips span more than one scale-up domain of {}, but {}",
                chips,
                self.chip.scale_up_domain,
                self.entry.missing("scale_out.bandwidth")
            ));
        }
        Ok(())
    }
}

fn decode_tier(v: &Value, param: &str) -> Result<TierRecord, String> {
    let expected =
        "a memory, hardware or system record (like `memory.hdd_exos_x24` or `hardware.h100`)";
    let e = Entry::new(v, param, "memory tier", expected)?;
    // An announced chip with no compute figures yet is, as memory, its HBM.
    if e.has("hbm") && !e.has("flops") && !e.has("chip") {
        let ((capacity, bandwidth), figures) = with_figures(|| {
            let rate = per(Dim::information(), Dim::time());
            Ok((
                e.quantity("hbm.capacity", &Dim::information(), "GB")?,
                e.quantity("hbm.bandwidth", &rate, "TB/s")?,
            ))
        })?;
        return Ok(TierRecord {
            capacity,
            bandwidth,
            figures,
        });
    }
    if e.has("hbm") || e.has("chip") {
        let h = hw(v, param)?;
        return Ok(TierRecord {
            capacity: h.chip.hbm_capacity,
            bandwidth: h.chip.hbm_bandwidth,
            figures: h.figures.clone(),
        });
    }
    if !e.has("capacity") && !e.has("bandwidth") {
        return Err(format!(
            "`{param}` must be {expected}, found {}, which has no `capacity` or `bandwidth`",
            describe(v)
        ));
    }
    let ((capacity, bandwidth), figures) = with_figures(|| {
        Ok((
            e.quantity("capacity", &Dim::information(), "TB")?,
            e.quantity("bandwidth", &per(Dim::information(), Dim::time()), "GB/s")?,
        ))
    })?;
    Ok(TierRecord {
        capacity,
        bandwidth,
        figures,
    })
}

fn decode_pricing(v: &Value, param: &str) -> Result<PricingRecord, String> {
    let e = Entry::new(
        v,
        param,
        "pricing",
        "a pricing record (like `pricing.claude_opus_4_6`)",
    )?;
    let per_token = per(Dim::money(), Dim::token());
    let ((output, fast), figures) = with_figures(|| {
        let output = e.quantity("output", &per_token, "$/Mtok")?;
        let fast = match e.get("fast") {
            None => None,
            Some(_) => Some((
                e.quantity("fast.output", &per_token, "$/Mtok")?,
                e.number("fast.speed_up")?,
            )),
        };
        Ok((output, fast))
    })?;
    Ok(PricingRecord {
        output,
        fast,
        entry: e.info(),
        figures,
    })
}

impl PricingRecord {
    /// The fast tier's output price and speed-up, or the error for a record without one.
    pub fn fast(&self) -> Result<(f64, f64), String> {
        self.fast.ok_or_else(|| self.entry.missing("fast.output"))
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a record's fields.

/// `a / b`.
pub fn per(a: Dim, b: Dim) -> Dim {
    a.div(&b).unwrap_or_default()
}

/// A value in words for messages: `the string "h100"`, `a quantity in B/s`.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("the string {:?}", &**s),
        Value::Quantity { dim, .. } if dim.is_dimensionless() => "a plain number".into(),
        Value::Quantity { dim, .. } => {
            format!(
                "a quantity in {}",
                Registry::shared_prelude().base_unit_string(dim)
            )
        }
        Value::Record(r) => match r.get("name").and_then(Value::as_str) {
            Some(name) => format!("the record {name:?}"),
            None => "a record".into(),
        },
        other => other.kind().into(),
    }
}

/// A data record being read, with what it is and its display name for messages.
struct Entry<'a> {
    value: &'a Value,
    kind: &'static str,
    name: String,
}

impl<'a> Entry<'a> {
    /// `v` if it is a record; else an error saying `param` needs `expected`.
    fn new(
        v: &'a Value,
        param: &str,
        kind: &'static str,
        expected: &str,
    ) -> Result<Entry<'a>, String> {
        if !matches!(v, Value::Record(_)) {
            return Err(format!(
                "`{param}` must be {expected}, found {}",
                describe(v)
            ));
        }
        let name = v
            .field("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_string();
        Ok(Entry {
            value: v,
            kind,
            name,
        })
    }

    fn info(&self) -> EntryInfo {
        EntryInfo {
            kind: self.kind,
            name: self.name.clone(),
            chip_name: None,
            value: self.value.clone(),
        }
    }

    /// The value at a dotted path (`hbm.bandwidth`); the figure it came from is noted as read.
    fn get(&self, path: &str) -> Option<&'a Value> {
        let v = path
            .split('.')
            .try_fold(self.value, |v, part| v.field(part))?;
        provenance::note(v);
        Some(v)
    }

    fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    fn missing(&self, path: &str) -> String {
        missing(self.kind, &self.name, self.value, path)
    }

    /// A field of the wrong kind or dimension: blames the figure itself (its line), else the
    /// entry.
    fn wrong(&self, path: &str, expected: &str, found: &Value) -> String {
        let figure = found.prov().and_then(|f| f.first()).map(|f| Origin {
            file: f.file.clone(),
            line: f.line,
            id: f.path.to_string(),
        });
        provenance::blame(figure.as_ref().or(self.value.origin()));
        format!(
            "{} {:?}: `{path}` must be {expected}, found {}",
            self.kind,
            self.name,
            describe(found)
        )
    }

    fn number_opt(&self, path: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_number()
                .map(Some)
                .ok_or_else(|| self.wrong(path, "a plain number", v)),
        }
    }

    fn number(&self, path: &str) -> Result<f64, String> {
        self.number_opt(path)?.ok_or_else(|| self.missing(path))
    }

    /// A whole, non-negative count (layers, heads, experts).
    fn int_opt(&self, path: &str) -> Result<Option<u32>, String> {
        match self.number_opt(path)? {
            None => Ok(None),
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => {
                Ok(Some(x as u32))
            }
            Some(x) => Err(format!(
                "{} {:?}: `{path}` must be a whole number, found {x}",
                self.kind, self.name
            )),
        }
    }

    fn int(&self, path: &str) -> Result<u32, String> {
        self.int_opt(path)?.ok_or_else(|| self.missing(path))
    }

    fn quantity_opt(&self, path: &str, dim: &Dim, unit: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_f64_in(dim)
                .map(Some)
                .ok_or_else(|| self.wrong(path, &format!("a quantity like `{unit}`"), v)),
        }
    }

    fn quantity(&self, path: &str, dim: &Dim, unit: &str) -> Result<f64, String> {
        self.quantity_opt(path, dim, unit)?
            .ok_or_else(|| self.missing(path))
    }

    /// A token count: a quantity in tokens or a plain number.
    fn tokens_opt(&self, path: &str) -> Result<Option<f64>, String> {
        match self.get(path) {
            None => Ok(None),
            Some(v) => v
                .as_f64_in(&Dim::token())
                .or_else(|| v.as_number())
                .map(Some)
                .ok_or_else(|| self.wrong(path, "a number of tokens", v)),
        }
    }

    fn text(&self, path: &str) -> Result<&'a str, String> {
        let v = self.get(path).ok_or_else(|| self.missing(path))?;
        v.as_str().ok_or_else(|| self.wrong(path, "a string", v))
    }
}

/// A field the engine needs is absent: names the field, the record and the fields it has, and
/// blames the data entry so the diagnostic points at it.
fn missing(kind: &str, name: &str, record: &Value, path: &str) -> String {
    provenance::blame(record.origin());
    let parts: Vec<&str> = path.split('.').collect();
    let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
    let parent = parents.iter().try_fold(record, |v, p| v.field(p));
    let have: Vec<&str> = match parent {
        Some(Value::Record(r)) => r.names().collect(),
        _ => Vec::new(),
    };
    let hint = match crate::diagnostic::did_you_mean(last, have.iter().copied()) {
        Some(s) => format!(" (it has `{s}`: a misspelling?)"),
        None if have.is_empty() => String::new(),
        None => format!(" (it has {})", have.join(", ")),
    };
    format!("{kind} {name:?} has no field `{path}`, which this function needs{hint}")
}

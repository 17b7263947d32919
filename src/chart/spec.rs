//! spec
pub struct ChartSpec;
pub struct TableSpec;
pub fn parse_chart(_: &str) {}
pub fn parse_table(_: &str) {}

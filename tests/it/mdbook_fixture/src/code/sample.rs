use std::fmt;
// ANCHOR: body
fn body() -> u32 {
    // ANCHOR: inner
    40 + 2
    // ANCHOR_END: inner
}
// ANCHOR_END: body
// ANCHOR: open
fn open_ended() {}

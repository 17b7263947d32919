//! Rendering: Markdown to HTML ([`markdown`]), the theme ([`theme`]) and the whole site in memory
//! ([`site`]).

pub mod html_options;
pub mod markdown;
pub mod print;
pub mod search;
pub mod site;
pub mod template_guard;
pub mod theme;
pub mod typography;

pub use site::{GeneratedPage, Site};
pub use theme::Theme;

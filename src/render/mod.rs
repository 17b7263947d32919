//! Rendering: Markdown to HTML ([`markdown`]), the theme ([`theme`]) and the whole site
//! ([`site`]), handed file by file to a [`sink`] (a [`Site`] in memory, or `build`'s staging folder).

pub mod html_options;
pub mod markdown;
pub mod part;
pub mod print;
pub mod search;
pub mod sink;
pub mod site;
pub mod template_guard;
pub mod theme;
pub mod typography;

pub use sink::SiteSink;
pub use site::{GeneratedPage, Site};
pub use theme::Theme;

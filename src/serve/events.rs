//! Server-sent events: what the rebuild loop tells open pages, and the fan-out to each of them.
//!
//! Three events, each a JSON object:
//! - `hello` on connecting: `{"build": id}`. A page compares it with the id it was served with and
//!   reloads if a build happened in between (or the server restarted).
//! - `update` after a build that changed the output: `{"build", "pages": {path: "content" |
//!   "layout"}, "removed": [...], "reload": bool, "content": {path: {"title", "splice" or
//!   "main"}}}`. `content` means only the page's `<main>` and title changed, so the page can swap
//!   it in place, with the nodes that changed (`splice`), the whole new content where it cannot
//!   be cut into nodes (`main`, unless large), or by fetching itself; `layout` means more did (the
//!   links in `<head>`); `reload` that a stylesheet or script changed (the sidebar's `toc.js`
//!   among them), which every page must reload for.
//! - `failed` after a build with errors: `{"errors": [{"location", "message", "text"}]}`, `text`
//!   being the diagnostic as the terminal shows it (without colour). A page that connects while the
//!   book is broken gets it straight after `hello`.

use std::sync::Mutex;

// tokio's unbounded channel: sending never blocks the rebuild loop, and the HTTP side, which runs on
// tokio, awaits frames without a thread per open page.
use tokio::sync::mpsc::{
    UnboundedReceiver as Receiver, UnboundedSender as Sender, unbounded_channel as channel,
};

use serde::Serialize;

use super::diff::Changes;

/// One error of a failed build, as the overlay shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// `file:line:col`, or the file, or empty when the error concerns no file.
    pub location: String,
    pub message: String,
    /// The rendered diagnostic: header, location, the source line with carets, help and notes.
    pub text: String,
}

/// Fans events out to every open page.
pub struct Hub {
    state: Mutex<State>,
}

struct State {
    clients: Vec<Sender<String>>,
    /// Identifies this server process, so a page notices a restart.
    instance: String,
    /// Counts the builds that changed the output.
    build: u64,
    /// The `failed` frame while the book is broken, for pages that connect meanwhile.
    failure: Option<String>,
}

impl Hub {
    pub fn new() -> Hub {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Hub {
            state: Mutex::new(State {
                clients: Vec::new(),
                instance: format!("{:x}{:x}", std::process::id(), nanos),
                build: 0,
                failure: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The id of the build being served (`instance-n`).
    pub fn build_id(&self) -> String {
        self.lock().id()
    }

    /// A new page's stream, and the frames it must get first.
    pub fn subscribe(&self) -> (Receiver<String>, Vec<String>) {
        let (tx, rx) = channel();
        let mut state = self.lock();
        state.clients.push(tx);
        let mut greeting = vec![
            // Reconnect quickly after a restart: the server is local.
            "retry: 300\n\n".to_string(),
            frame("hello", &serde_json::json!({ "build": state.id() })),
        ];
        greeting.extend(state.failure.clone());
        (rx, greeting)
    }

    /// Announces a build that changed the output.
    pub fn updated(&self, changes: &Changes) {
        let mut state = self.lock();
        state.build += 1;
        state.failure = None;
        let data = serde_json::json!({
            "build": state.id(),
            "pages": changes.pages,
            "removed": changes.removed,
            "reload": changes.reload,
            "content": changes.contents,
        });
        state.broadcast(frame("update", &data));
    }

    /// Announces that the book builds again with no change to the output (an error was undone).
    pub fn recovered(&self) {
        let mut state = self.lock();
        if state.failure.take().is_some() {
            let data = serde_json::json!({
                "build": state.id(),
                "pages": {},
                "removed": [],
                "reload": false,
            });
            state.broadcast(frame("update", &data));
        }
    }

    /// Announces a build with errors; the pages keep showing the last good build.
    pub fn failed(&self, errors: &[ErrorReport]) {
        let mut state = self.lock();
        let f = frame("failed", &serde_json::json!({ "errors": errors }));
        state.failure = Some(f.clone());
        state.broadcast(f);
    }

    pub fn client_count(&self) -> usize {
        self.lock().clients.len()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl State {
    fn id(&self) -> String {
        format!("{}-{}", self.instance, self.build)
    }

    fn broadcast(&mut self, frame: String) {
        // A page that went away has dropped its receiver: forget it.
        self.clients.retain(|c| c.send(frame.clone()).is_ok());
    }
}

/// One SSE frame: `data` is a single line of JSON, so it needs no splitting.
fn frame(event: &str, data: &serde_json::Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_subscribers_see_the_current_failure() {
        let hub = Hub::new();
        hub.failed(&[ErrorReport {
            location: "src/a.md:1:1".into(),
            message: "boom".into(),
            text: "error: boom\n".into(),
        }]);
        let (_rx, greeting) = hub.subscribe();
        assert!(greeting.iter().any(|f| f.starts_with("event: failed\n")));
        hub.recovered();
        let (_rx, greeting) = hub.subscribe();
        assert!(!greeting.iter().any(|f| f.starts_with("event: failed\n")));
    }

    #[test]
    fn updates_reach_every_client_and_bump_the_build() {
        let hub = Hub::new();
        let before = hub.build_id();
        let (mut rx1, _) = hub.subscribe();
        let (rx2, _) = hub.subscribe();
        drop(rx2);
        hub.updated(&Changes::default());
        assert_ne!(hub.build_id(), before);
        assert!(rx1.try_recv().unwrap().starts_with("event: update\n"));
        assert_eq!(hub.client_count(), 1);
    }
}

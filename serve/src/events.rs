//! Live updates for the dashboard: job and detection events on a broadcast channel, sent
//! to each `GET /v1/events` subscriber as server-sent events.

use std::convert::Infallible;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::jobs::Job;
use crate::runs::Progress;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Job(Job),
    Detection(Progress),
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Job(_) => "job",
            Event::Detection(_) => "detection",
        }
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Events {
    pub fn new() -> Events {
        Events {
            tx: broadcast::channel(1024).0,
        }
    }

    /// Sends to whoever listens (nobody listening is fine).
    pub fn send(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    /// The stream one subscriber reads; a subscriber too slow to keep up skips what it
    /// missed and is told how many.
    pub fn stream(
        &self,
        stopping: CancellationToken,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
        let rx = self.tx.subscribe();
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            let event = match rx.recv().await {
                Ok(e) => SseEvent::default()
                    .event(e.name())
                    .json_data(&e)
                    .unwrap_or_default(),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    SseEvent::default().event("lagged").data(n.to_string())
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((Ok(event), rx))
        });
        // Ends when shutdown begins, so graceful shutdown is not held open by listeners.
        let stream = stream.take_until(stopping.cancelled_owned());
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}

impl Default for Events {
    fn default() -> Events {
        Events::new()
    }
}

//! One timer task for every container's timeline: a heap of wake-ups instead of a task
//! (or timer) per container, so 10,000 idle pods cost one sleeping task.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Shared;
use super::container::Wake;

pub(crate) async fn run(
    shared: Arc<Shared>,
    mut rx: mpsc::UnboundedReceiver<Wake>,
    mut heap: BinaryHeap<Reverse<Wake>>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let next = heap.peek().map(|Reverse(w)| w.at);
        tokio::select! {
            _ = super::until(&mut shutdown, true) => return,
            msg = rx.recv() => match msg {
                Some(w) => heap.push(Reverse(w)),
                None => return,
            },
            _ = sleep_until(next) => {
                let now = Instant::now();
                let env = shared.env();
                while let Some(Reverse(w)) = heap.peek().copied() {
                    if w.at > now {
                        break;
                    }
                    heap.pop();
                    if let Some(c) = shared.containers.get(w.id) {
                        // Re-schedules itself through the channel if needed.
                        c.wake(&env, now, w.generation);
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

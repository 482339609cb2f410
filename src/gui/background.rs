//! One result computed on a named thread and picked up by a later frame:
//! the window never waits for a socket call.

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use eframe::egui;

pub struct Background<T> {
    result: Option<Receiver<T>>,
}

impl<T> Default for Background<T> {
    fn default() -> Self {
        Background { result: None }
    }
}

impl<T: Send + 'static> Background<T> {
    /// Runs `work` on a thread named `name` and repaints when it is done.
    /// A job still running is forgotten (its result is dropped).
    pub fn spawn(
        &mut self,
        name: &str,
        ctx: &egui::Context,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<()> {
        let (tx, rx) = bounded(1);
        let repaint = ctx.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(work());
                repaint.request_repaint();
            })?;
        self.result = Some(rx);
        Ok(())
    }

    /// The result, once, when it has arrived.
    pub fn poll(&mut self) -> Option<T> {
        let rx = self.result.as_ref()?;
        match rx.try_recv() {
            Ok(result) => {
                self.result = None;
                Some(result)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.result = None;
                None
            }
        }
    }
}

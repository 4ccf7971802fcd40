//! One client call as a future: its trace span and its deadline, set around each poll of its work.
//!
//! One layer instead of three nested futures (a span's, a task-local scope's and an `async fn`'s
//! own), each of which handed the call's result (a user: ~700 bytes) on by moving it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{CALL_DEADLINE, current_call_deadline, earliest};

pin_project_lite::pin_project! {
    /// The future of [`Http::call`](super::Http::call).
    #[must_use = "a call does nothing unless awaited"]
    pub(crate) struct Call<F> {
        // `None` only once dropped (see the `PinnedDrop` below).
        #[pin]
        work: Option<F>,
        span: tracing::Span,
        // The retry policy's deadline, counted from the first poll.
        budget: Duration,
        // Set on the first poll: the earlier of this call's own deadline and an enclosing call's.
        deadline: Option<Option<Instant>>,
    }

    impl<F> PinnedDrop for Call<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // A cancelled call's work is dropped inside its span, as `tracing::Instrumented`
            // drops its future: what that clean-up traces belongs to the call.
            let _entered = this.span.enter();
            this.work.set(None);
        }
    }
}

impl<F> Call<F> {
    pub(super) fn new(work: F, span: tracing::Span, budget: Duration) -> Self {
        Call { work: Some(work), span, budget, deadline: None }
    }
}

impl<F: Future> Future for Call<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(work) = this.work.as_pin_mut() else {
            // Unreachable: only `drop` empties it.
            return Poll::Pending;
        };
        let budget = *this.budget;
        // Counted from the first poll, as the body of an `async fn` would be; an enclosing call
        // (whose poll this is inside) keeps its earlier deadline.
        let deadline =
            *this.deadline.get_or_insert_with(|| earliest(Instant::now().checked_add(budget), current_call_deadline()));
        let _entered = this.span.enter();
        // The output leaves the scope through `done`, not as the closure's value: that would be
        // copied out whole on every poll, the many that are pending included.
        let mut done = None;
        CALL_DEADLINE.sync_scope(deadline, || {
            if let Poll::Ready(output) = work.poll(cx) {
                done = Some(output);
            }
        });
        match done {
            Some(output) => Poll::Ready(output),
            None => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Work that never finishes and records, when dropped, the span it was dropped in.
    struct Pending(Arc<Mutex<Option<&'static str>>>);

    impl Future for Pending {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    impl Drop for Pending {
        fn drop(&mut self) {
            let current = tracing::Span::current().metadata().map(|meta| meta.name());
            *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = current;
        }
    }

    #[test]
    fn a_cancelled_call_drops_its_work_inside_its_span() {
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            let dropped_in = Arc::new(Mutex::new(None));
            let mut call = Box::pin(Call::new(
                Pending(Arc::clone(&dropped_in)),
                tracing::info_span!("operation"),
                Duration::from_secs(1),
            ));
            let waker = std::task::Waker::noop();
            assert!(call.as_mut().poll(&mut Context::from_waker(waker)).is_pending());
            drop(call);
            assert_eq!(*dropped_in.lock().unwrap(), Some("operation"));
        });
    }
}

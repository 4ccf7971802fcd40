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
    pub(crate) struct Call<F> {
        #[pin]
        work: F,
        span: tracing::Span,
        // The retry policy's deadline, counted from the first poll.
        budget: Duration,
        // Set on the first poll: the earlier of this call's own deadline and an enclosing call's.
        deadline: Option<Option<Instant>>,
    }
}

impl<F> Call<F> {
    pub(super) fn new(work: F, span: tracing::Span, budget: Duration) -> Self {
        Call { work, span, budget, deadline: None }
    }
}

impl<F: Future> Future for Call<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let budget = *this.budget;
        // Counted from the first poll, as the body of an `async fn` would be; an enclosing call
        // (whose poll this is inside) keeps its earlier deadline.
        let deadline =
            *this.deadline.get_or_insert_with(|| earliest(Instant::now().checked_add(budget), current_call_deadline()));
        let _entered = this.span.enter();
        let work = this.work;
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

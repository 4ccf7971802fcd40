//! One client call as a future: its trace span and its deadline, set around each poll of its work.
//!
//! One layer instead of three nested futures (a span's, a task-local scope's and an `async fn`'s
//! own), each of which handed the call's result on by moving it.

use std::cell::Cell;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::earliest;

thread_local! {
    /// The deadline of the client call being polled on this thread, if any. Set around each poll
    /// of a [`Call`] and put back after it, so it is the polled task's own: what a task-local is,
    /// without a closure per poll (through which the call's result would be moved twice).
    static CALL_DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The deadline of the client call in progress on this task, if any.
pub(crate) fn current_call_deadline() -> Option<Instant> {
    CALL_DEADLINE.with(Cell::get)
}

/// The deadline of one poll of a call; the one before it is put back when this is dropped, even
/// by a panic.
struct DeadlineScope(Option<Instant>);

impl DeadlineScope {
    fn enter(deadline: Option<Instant>) -> Self {
        DeadlineScope(CALL_DEADLINE.with(|current| current.replace(deadline)))
    }
}

impl Drop for DeadlineScope {
    fn drop(&mut self) {
        CALL_DEADLINE.with(|current| current.set(self.0));
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Http::call`](super::Http::call).
    #[must_use = "a call does nothing unless awaited"]
    pub(crate) struct Call<F> {
        // `None` only once dropped (see the `PinnedDrop` below).
        #[pin]
        work: Option<F>,
        // Set on the first poll: the earlier of this call's own deadline and an enclosing call's,
        // and the `operation` span, whose parent is then the span current where the call is
        // awaited, as an `async fn`'s would be, not where it was built.
        started: Option<(Option<Instant>, tracing::Span)>,
        // The connector's kind and the operation, for the span.
        names: (&'static str, &'static str),
        // The retry policy's deadline, counted from the first poll.
        budget: Duration,
    }

    impl<F> PinnedDrop for Call<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // A cancelled call's work is dropped inside its span, as `tracing::Instrumented`
            // drops its future: what that clean-up traces belongs to the call. A call never
            // polled has no span, and its work has traced nothing.
            let _entered = this.started.as_ref().map(|(_, span)| span.enter());
            this.work.set(None);
        }
    }
}

impl<F> Call<F> {
    /// `work` as the call `operation` of a connector of kind `connector`.
    pub(super) fn new(work: F, connector: &'static str, operation: &'static str, budget: Duration) -> Self {
        Call { work: Some(work), started: None, names: (connector, operation), budget }
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
        let (names, budget) = (*this.names, *this.budget);
        let (deadline, span) = this.started.get_or_insert_with(|| first_poll(names, budget));
        let _scope = DeadlineScope::enter(*deadline);
        let _entered = span.enter();
        work.poll(cx)
    }
}

/// A call's deadline and span, made on its first poll. Out of line and not generic: one copy
/// serves every kind of call, and the code of each call's polls stays short.
#[inline(never)]
fn first_poll(
    (connector, operation): (&'static str, &'static str),
    budget: Duration,
) -> (Option<Instant>, tracing::Span) {
    // Counted from the first poll, as the body of an `async fn` would be; an enclosing call
    // (whose poll this is inside) keeps its earlier deadline.
    let deadline = earliest(Instant::now().checked_add(budget), current_call_deadline());
    (deadline, tracing::info_span!("operation", connector, operation))
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

    /// Work that records the call deadline it sees when polled, then finishes.
    struct Sees<'a>(&'a Cell<Option<Option<Instant>>>);

    impl Future for Sees<'_> {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.0.set(Some(current_call_deadline()));
            Poll::Ready(())
        }
    }

    fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
        std::pin::pin!(future).poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn the_deadline_is_the_polled_calls_and_the_earlier_of_nested_calls() {
        let (inner_seen, outer_seen) = (Cell::new(None), Cell::new(None));
        let before = Instant::now();
        let outer = async {
            let outer_deadline = current_call_deadline();
            // A longer inner budget keeps the outer deadline; a shorter one has its own.
            Call::new(Sees(&inner_seen), "test", "inner", Duration::from_secs(600)).await;
            assert_eq!(inner_seen.get(), Some(outer_deadline));
            Call::new(Sees(&inner_seen), "test", "inner", Duration::from_secs(1)).await;
            let inner = inner_seen.get().flatten().unwrap();
            assert!(inner < outer_deadline.unwrap() && inner >= before + Duration::from_secs(1));
            // Put back once the inner call's poll is over.
            Sees(&outer_seen).await;
        };
        assert!(poll_once(Call::new(outer, "test", "outer", Duration::from_secs(60))).is_ready());
        let outer = outer_seen.get().flatten().unwrap();
        assert!(outer >= before + Duration::from_secs(60) && outer < before + Duration::from_secs(600));
        assert_eq!(current_call_deadline(), None, "no deadline outside a call's poll");
    }

    #[test]
    fn a_panicking_poll_leaves_no_deadline_behind() {
        let panics = Call::new(async { panic!("work failed") }, "test", "panics", Duration::from_secs(5));
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(panics))).is_err());
        assert_eq!(current_call_deadline(), None);
    }

    /// The span is made when the call is first polled, so a call built in one place and awaited
    /// in another (`join_all` of calls, `.instrument(..)` around an await) is a child of the span
    /// it is awaited in, as an `async fn`'s span is; a call never polled makes no span.
    #[test]
    fn the_span_is_a_child_of_the_span_the_call_is_awaited_in() {
        use tracing::Instrument;
        use tracing_subscriber::layer::SubscriberExt;

        type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;
        struct Parents(Seen);
        impl<S> tracing_subscriber::Layer<S> for Parents
        where
            S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
        {
            fn on_new_span(
                &self,
                _: &tracing::span::Attributes<'_>,
                id: &tracing::span::Id,
                ctx: tracing_subscriber::layer::Context<'_, S>,
            ) {
                let span = ctx.span(id).expect("the span just made");
                let parent = span.parent().map(|parent| parent.name().to_string());
                self.0.lock().unwrap().push((span.name().to_string(), parent));
            }
        }
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry().with(Parents(Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, || {
            let built_here = Call::new(async {}, "test", "get", Duration::from_secs(1));
            let never_polled = Call::new(async {}, "test", "find", Duration::from_secs(1));
            drop(never_polled);
            let awaited_there = built_here.instrument(tracing::info_span!("caller"));
            assert!(poll_once(awaited_there).is_ready());
        });
        let expected = vec![("caller".to_string(), None), ("operation".to_string(), Some("caller".to_string()))];
        assert_eq!(*seen.lock().unwrap(), expected);
    }

    #[test]
    fn a_cancelled_call_drops_its_work_inside_its_span() {
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            let dropped_in = Arc::new(Mutex::new(None));
            let mut call =
                Box::pin(Call::new(Pending(Arc::clone(&dropped_in)), "test", "cancelled", Duration::from_secs(1)));
            let waker = std::task::Waker::noop();
            assert!(call.as_mut().poll(&mut Context::from_waker(waker)).is_pending());
            drop(call);
            assert_eq!(*dropped_in.lock().unwrap(), Some("operation"));
        });
    }
}

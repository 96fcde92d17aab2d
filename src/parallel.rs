//! Two independent pieces of work on two threads. runguard's stages are sequential, but within a
//! stage the two sides of the plan, or two halves of the workloads, do not depend on each other;
//! on a machine with two cores they take half the wall time. Results come back in a fixed order,
//! so the output does not depend on which thread finishes first.
//!
//! A thread is not free: starting and joining one took about 100 µs on the benchmark machine,
//! more than a small plan's graphs or postures take. The analysis stages split only plans with
//! [`WORKLOADS_WORTH_A_THREAD`] workloads or more ([`join_if`]).

/// Runs `first` on a second thread and `second` on this one, and returns both results. A panic
/// on the second thread is resumed here, as if both had run on this thread.
pub(crate) fn join<A: Send, B>(
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|scope| {
        let other = scope.spawn(first);
        let b = second();
        match other.join() {
            Ok(a) => (a, b),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The fewest workloads for which the analysis stages use a second thread. Measured with the
/// benchmark's default plans: at 1 MB (12 workloads) building the two sides' graphs took 92 µs
/// on one thread and 227 µs on two, the postures 109 and 179 µs; at 10 MB (107 workloads) two
/// threads took 599 µs against 1,003 µs for the graphs, 656 against 1,086 for the postures.
pub(crate) const WORKLOADS_WORTH_A_THREAD: usize = 32;

/// [`join`] when `split`; otherwise `first` then `second` on this thread.
pub(crate) fn join_if<A: Send, B>(
    split: bool,
    first: impl FnOnce() -> A + Send,
    second: impl FnOnce() -> B,
) -> (A, B) {
    if split {
        join(first, second)
    } else {
        let a = first();
        (a, second())
    }
}

/// Frees `value` on a thread of its own, so that the caller goes on without waiting for it.
/// The caller must be done with two cores' work: the thread competes with whatever runs next.
/// If no thread can be started, `value` is freed here.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    // A spawn that fails drops its closure, and `value` with it, on this thread.
    let _ = std::thread::Builder::new()
        .name("runguard-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_if_splits_only_when_asked_and_keeps_the_order_of_results() {
        let here = std::thread::current().id();
        let on_thread = || std::thread::current().id();
        let (first, second) = join_if(true, on_thread, on_thread);
        assert_ne!(first, here);
        assert_eq!(second, here);
        let (first, second) = join_if(false, on_thread, on_thread);
        assert_eq!((first, second), (here, here));
        assert_eq!(join_if(false, || 1, || 2), (1, 2));
    }

    /// The value is freed, and not on the caller's thread.
    #[test]
    fn a_value_dropped_in_the_background_is_dropped_on_another_thread() {
        struct Noted(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Noted {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        drop_in_background(Noted(tx));
        let freed_on = rx.recv().expect("the value is dropped");
        assert_ne!(freed_on, std::thread::current().id());
    }
}

//! Two independent pieces of work on two threads. runguard's stages are sequential, but within a
//! stage the two sides of the plan, or two halves of the workloads, do not depend on each other;
//! on a machine with two cores they take half the wall time. Results come back in a fixed order,
//! so the output does not depend on which thread finishes first.

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

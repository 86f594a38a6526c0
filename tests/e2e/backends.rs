//! The one way an end-to-end test runs on both stores: write the body once as
//! `async fn a_sentence(backend: Backend)`, then name it in [`on_both_backends!`], which makes
//! `a_sentence::on_postgres` and `a_sentence::on_sqlite`, so a failure names both the rule and the
//! backend, and `-E 'test(/a_sentence/)'` still selects the pair.
//!
//! Declared first in `main.rs` with `#[macro_use]`, so every module of the binary can use it.

/// Generates, for each named `async fn(Backend)`, a module of that name with an `on_postgres` and an
/// `on_sqlite` `#[tokio::test]`.
///
/// ```text
/// on_both_backends!(a_rule, another_rule);
/// // Tests that need a multi-threaded runtime (a projector beside the test's own tasks, ...):
/// on_both_backends!(flavor = "multi_thread", worker_threads = 2; a_busy_rule);
/// ```
macro_rules! on_both_backends {
    (@one [$($runtime:tt)*] $name:ident) => {
        mod $name {
            #[tokio::test($($runtime)*)]
            async fn on_postgres() {
                super::$name(cms_tests::Backend::Postgres).await;
            }

            #[tokio::test($($runtime)*)]
            async fn on_sqlite() {
                super::$name(cms_tests::Backend::Sqlite).await;
            }
        }
    };
    (flavor = $flavor:tt, worker_threads = $threads:tt; $($name:ident),* $(,)?) => {
        $( on_both_backends!(@one [flavor = $flavor, worker_threads = $threads] $name); )*
    };
    ($($name:ident),* $(,)?) => {
        $( on_both_backends!(@one [] $name); )*
    };
}

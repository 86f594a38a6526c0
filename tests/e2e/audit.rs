//! The audit features end to end: tamperings made as a superuser straight in SQL are caught by
//! `audit::verify` at the right position with the right kind (`tamper`), and the history, time-travel
//! and audit-log routes answer each role as they should (`history`).

mod history;
mod tamper;

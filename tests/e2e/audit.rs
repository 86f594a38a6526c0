//! The audit features end to end: tamperings made as a superuser straight in SQL are caught by
//! `audit::verify` at the right position with the right kind (`tamper`), the history, time-travel
//! and audit-log routes answer each role as they should (`history`), and an export verifies with an
//! independent checker (`export`); `changes` covers what changed between two moments and the record
//! of auditor reads.

mod changes;
mod export;
mod history;
mod tamper;

//! Tamper evidence for the log: a SHA-256 hash chain over every event in RFC 8785 canonical form,
//! signed Ed25519 checkpoints, the sealer that writes both, and the verifier behind
//! `cms audit verify` and `cms audit export` (docs/adr/0006, docs/audit-format.md).

pub mod chain;
pub mod copies;
pub mod export;
pub mod jcs;
pub mod keys;
pub mod reads;
pub mod sealer;
pub mod verify;

pub use export::export;
pub use keys::{AuditSigner, AUDIT_KEY_FILE};
pub use sealer::{CheckpointPolicy, SealError, Sealer};
pub use verify::{verify, verify_with_copies, Damage, Report, VerifyError};

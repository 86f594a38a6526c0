//! The application state every request handler may use. It depends on nothing HTTP-specific, so the
//! routes use it without importing the router that serves them.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::audit::AuditSigner;
use crate::auth::JwtVerifier;
use crate::commands::executor::Executor;
use crate::fanout::gateway::Gateway;
use crate::objects::ObjectStore;
use crate::reads::Reads;

/// Everything a request handler may need, cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub executor: Arc<Executor>,
    pub verifier: Arc<JwtVerifier>,
    /// Signs audit checkpoints; its public half is served at `/v1/audit/key`.
    pub audit_signer: Option<Arc<AuditSigner>>,
    /// Where queries run: replicas when configured, else the primary.
    pub reads: Arc<Reads>,
    /// Photos, thumbnails and audit checkpoint copies.
    pub objects: Arc<dyn ObjectStore>,
    /// The WebSocket gateway (`/v1/ws`); `None` answers 503 `fanout_unavailable` there.
    pub fanout: Option<Arc<Gateway>>,
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

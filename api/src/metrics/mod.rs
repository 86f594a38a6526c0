//! Prometheus metrics: the recorder behind the `metrics` facade, the `/metrics` listener on its own
//! address (`CMS_METRICS_ADDR`), the HTTP middleware and the process metrics read from `/proc`. The
//! gauges that are read rather than counted (pools, projections, log head, replica lag) are sampled
//! by `crate::startup::sampler`, which sees the service's parts.
//!
//! Every name is declared once in [`names`]; labels come from enums or compiled-in static names only.
//! The exporter is built without its HTTP listener feature: we render with its handle and serve the
//! text from axum, so no second HTTP server stack is pulled in.

pub mod http;
pub mod names;
mod process;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use names::*;

/// Histogram buckets in seconds: 1 ms to 10 s, fine enough around 2 s (the P95 alert) to resolve
/// p50, p95 and p99 of requests, commands and appends.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 4.0, 6.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's `metrics` recorder (once; later calls return
/// the same handle), describes every metric and sets `cms_build_info`.
///
/// # Errors
/// Another recorder was installed before (by something other than this function).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(&LATENCY_BUCKETS)?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
    let handle = HANDLE.get_or_init(|| handle).clone();
    describe_all();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

fn describe_all() {
    for &(name, kind, help) in DESCRIBED {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => {
                metrics::describe_histogram!(name, metrics::Unit::Seconds, help);
            }
        }
    }
}

/// The exposition: everything recorded, then the process metrics read now.
pub fn render(handle: &PrometheusHandle) -> String {
    let mut text = handle.render();
    process::render(&mut text);
    text
}

/// The metrics listener's router: `GET /metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    render(&handle),
                )
                    .into_response()
            }
        }),
    )
}

/// A bound metrics listener.
#[derive(Debug)]
pub struct MetricsServer {
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Binds `addr` for `handle`'s exposition.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(addr: SocketAddr, handle: PrometheusHandle) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(Self { listener, handle })
    }

    /// The bound address (useful with port 0).
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves `/metrics` until `stop` completes.
    ///
    /// # Errors
    /// The listener fails.
    pub async fn serve(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, router(self.handle))
            .with_graceful_shutdown(stop)
            .await
    }
}

//! The HTTP metrics middleware: requests by matched route, method and status, a latency histogram
//! and the in-flight gauge. The route label is axum's [`MatchedPath`] (a route template such as
//! `/v1/complaints/{id}`, never the path with its ids), or `unmatched` for the fallback.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

use super::names::{HttpMethod, HTTP_REQUESTS, HTTP_REQUESTS_IN_FLIGHT, HTTP_REQUEST_DURATION};

/// Route label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Decrements the in-flight gauge however the request ends (answered, or dropped mid-way).
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!(HTTP_REQUESTS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(HTTP_REQUESTS_IN_FLIGHT).decrement(1.0);
    }
}

/// Records one request (use with `axum::middleware::from_fn` on the router).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let method = HttpMethod::of(request.method()).as_str();
    let _in_flight = InFlight::start();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_REQUEST_DURATION, "route" => route.clone(), "method" => method)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

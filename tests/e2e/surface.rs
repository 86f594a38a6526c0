//! The service's public surface besides commands: health and readiness, the OpenAPI 3.1 document and
//! its UI, and the request id on every response.

use cms_tests::Backend;
use reqwest::StatusCode;

use crate::support::TestApp;

async fn health_readiness_and_the_openapi_document_answer_without_a_token(backend: Backend) {
    // Arrange
    let app = TestApp::spawn(backend).await;

    // Act
    let health = app
        .send(app.client.get(format!("{}/healthz", app.base)))
        .await;
    let ready = app
        .send(app.client.get(format!("{}/readyz", app.base)))
        .await;
    let openapi = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await;
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "{backend:?}: {:?}",
        ready.body
    );
    assert_eq!(ready.body["checks"]["database"], "ok");
    assert_eq!(ready.body["checks"]["migrations"], "ok");
    assert!(
        health.headers.contains_key("x-request-id"),
        "every response carries a request id"
    );
    assert!(openapi.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = openapi.body["paths"].as_object().unwrap();
    for command in [
        "triage", "assign", "start", "hold", "resume", "comments", "resolve", "confirm", "dispute",
        "close", "reject", "withdraw", "rating",
    ] {
        assert!(
            paths.contains_key(&format!("/v1/complaints/{{id}}/{command}")),
            "{command} undocumented"
        );
    }
    for path in [
        "/v1/complaints",
        "/v1/complaints/{id}",
        "/v1/hostels",
        "/v1/hostels/{id}",
        "/v1/hostels/{id}/staff",
        "/v1/hostels/{id}/policy",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(path), "{path} undocumented");
    }
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text().await.unwrap().contains("swagger"),
        "the browsable UI is served"
    );
}

on_both_backends!(health_readiness_and_the_openapi_document_answer_without_a_token);

#[tokio::test]
async fn a_wrong_method_gets_the_error_envelope() {
    // Arrange
    let app = TestApp::spawn(Backend::Sqlite).await;

    // Act
    let answer = app
        .send(
            app.client
                .delete(format!("{}/v1/complaints", app.base))
                .bearer_auth(app.admin()),
        )
        .await;

    // Assert
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "method_not_allowed");
}

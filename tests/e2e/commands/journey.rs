//! A journey, not a family: one complaint's whole life over HTTP, filed, triaged, assigned, held
//! and resumed, resolved, disputed, fixed again, confirmed, rated and commented on, with the status and
//! the consistency token of every step and the events in the log at the end.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::Cmd::{self, Assign, Confirm, Dispute, Hold, Rate, Resolve, Resume, Start, Triage};
use super::Who::{self, Reporter, SkilledStaff, Warden};
use super::{spawn_with_two_hostels, Stage};

async fn a_complaint_lives_from_filing_through_a_dispute_to_a_rating(backend: Backend) {
    // Arrange
    let app = spawn_with_two_hostels(backend).await;
    let id = Stage::Filed.drive(&app).await;
    let filed_at = app.head().await;
    let walk: [(Who, Cmd, &str); 12] = [
        (Warden, Triage, "triaged"),
        (Warden, Assign("staff-p"), "assigned"),
        (SkilledStaff, Start, "in_progress"),
        (SkilledStaff, Hold, "on_hold"),
        (SkilledStaff, Resume, "in_progress"),
        (SkilledStaff, Resolve, "resolved"),
        (Reporter, Dispute, "reopened"),
        (SkilledStaff, Start, "in_progress"),
        (SkilledStaff, Resolve, "resolved"),
        (Reporter, Confirm, "closed"),
        (Reporter, Rate(5), "closed"),
        // Talk continues after the end; the status does not move.
        (Reporter, Cmd::Comment, "closed"),
    ];
    let mut positions = vec![filed_at];

    for (who, cmd, status) in walk {
        // Act
        let answer = cmd.send(&app, who, &id).await;

        // Assert
        let step = format!("{cmd:?} by {who:?} on {backend}");
        assert_eq!(answer.status, StatusCode::OK, "{step}: {:?}", answer.body);
        assert_eq!(answer.body["status"], status, "{step}");
        let token = answer.headers["consistency-token"].to_str().unwrap();
        assert_eq!(token, answer.position().to_string(), "{step}");
        let previous = *positions.last().unwrap();
        assert!(
            answer.position() > previous,
            "{step}: {} after {previous}",
            answer.position()
        );
        let seen = app
            .get_fresh(&format!("/v1/complaints/{id}"), &Reporter.token(&app))
            .await;
        assert_eq!(seen.body["status"], status, "{step}");
        assert_eq!(seen.position(), answer.position(), "{step}");
        positions.push(answer.position());
    }

    let end = app
        .get_fresh(&format!("/v1/complaints/{id}"), &Warden.token(&app))
        .await;
    assert_eq!(end.body["rating"]["stars"], 5);
    assert_eq!(end.body["disputes"].as_array().map(Vec::len), Some(1));
    assert_eq!(end.body["assignments"].as_array().map(Vec::len), Some(1));
    assert_eq!(end.body["resolution"]["by"], "staff-p");
    let log = app.store.read_log(filed_at, 100).await.unwrap();
    let types: Vec<&str> = log.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ComplaintTriaged",
            "ComplaintAssigned",
            "WorkStarted",
            "ComplaintPutOnHold",
            "WorkResumed",
            "ComplaintResolved",
            "ResolutionDisputed",
            "ComplaintReopened",
            "WorkStarted",
            "ComplaintResolved",
            "ResolutionConfirmed",
            "ComplaintClosed",
            "ResolutionRated",
            "CommentAdded",
        ]
    );
}

on_both_backends!(a_complaint_lives_from_filing_through_a_dispute_to_a_rating);

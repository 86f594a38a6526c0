//! The `feedback` family over HTTP: the reporter's answer to a resolution (confirm, dispute, rate),
//! for every actor.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::Cmd::{Confirm, Dispute, Rate};
use super::Expect::{Done, Refused};
use super::Stage::{Closed, InProgress, Rated, Reopened, Resolved, Withdrawn};
use super::Who::{
    Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service, SkilledStaff,
    UnskilledStaff, Warden,
};
use super::{run_table, COMPLAINT_NOT_FOUND, INVALID_TRANSITION, NOT_PERMITTED};

async fn only_the_reporter_confirms_a_resolution_and_it_closes(backend: Backend) {
    run_table(
        backend,
        &[
            (Resolved, Reporter, Confirm, Done("closed")),
            (Resolved, OtherResident, Confirm, COMPLAINT_NOT_FOUND),
            (Resolved, SkilledStaff, Confirm, NOT_PERMITTED),
            (Resolved, UnskilledStaff, Confirm, NOT_PERMITTED),
            (Resolved, Warden, Confirm, NOT_PERMITTED),
            (Resolved, Admin, Confirm, NOT_PERMITTED),
            (Resolved, Auditor, Confirm, NOT_PERMITTED),
            (Resolved, Service, Confirm, NOT_PERMITTED),
            (Resolved, ForeignWarden, Confirm, COMPLAINT_NOT_FOUND),
            (Resolved, ForeignStaff, Confirm, COMPLAINT_NOT_FOUND),
            (InProgress, Reporter, Confirm, INVALID_TRANSITION),
            (Reopened, Reporter, Confirm, INVALID_TRANSITION),
            (Closed, Reporter, Confirm, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn only_the_reporter_disputes_a_resolution_and_it_reopens(backend: Backend) {
    run_table(
        backend,
        &[
            (Resolved, Reporter, Dispute, Done("reopened")),
            (Resolved, OtherResident, Dispute, COMPLAINT_NOT_FOUND),
            (Resolved, SkilledStaff, Dispute, NOT_PERMITTED),
            (Resolved, UnskilledStaff, Dispute, NOT_PERMITTED),
            (Resolved, Warden, Dispute, NOT_PERMITTED),
            (Resolved, Admin, Dispute, NOT_PERMITTED),
            (Resolved, Auditor, Dispute, NOT_PERMITTED),
            (Resolved, Service, Dispute, NOT_PERMITTED),
            (Resolved, ForeignWarden, Dispute, COMPLAINT_NOT_FOUND),
            (Resolved, ForeignStaff, Dispute, COMPLAINT_NOT_FOUND),
            (InProgress, Reporter, Dispute, INVALID_TRANSITION),
            (Reopened, Reporter, Dispute, INVALID_TRANSITION),
            (Closed, Reporter, Dispute, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn only_the_reporter_rates_a_resolution_and_only_once(backend: Backend) {
    run_table(
        backend,
        &[
            (Closed, Reporter, Rate(5), Done("closed")),
            (Resolved, Reporter, Rate(3), Done("resolved")),
            (Closed, OtherResident, Rate(5), COMPLAINT_NOT_FOUND),
            (Closed, SkilledStaff, Rate(5), NOT_PERMITTED),
            (Closed, UnskilledStaff, Rate(5), NOT_PERMITTED),
            (Closed, Warden, Rate(5), NOT_PERMITTED),
            (Closed, Admin, Rate(5), NOT_PERMITTED),
            (Closed, Auditor, Rate(5), NOT_PERMITTED),
            (Closed, Service, Rate(5), NOT_PERMITTED),
            (Closed, ForeignWarden, Rate(5), COMPLAINT_NOT_FOUND),
            (Closed, ForeignStaff, Rate(5), COMPLAINT_NOT_FOUND),
            (
                Rated,
                Reporter,
                Rate(5),
                Refused(StatusCode::CONFLICT, "already_rated"),
            ),
            (
                Closed,
                Reporter,
                Rate(6),
                Refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_rating"),
            ),
            (InProgress, Reporter, Rate(5), INVALID_TRANSITION),
            // A disputed resolution no longer exists to be rated.
            (Reopened, Reporter, Rate(5), INVALID_TRANSITION),
            (Withdrawn, Reporter, Rate(5), INVALID_TRANSITION),
        ],
    )
    .await;
}

on_both_backends!(
    only_the_reporter_confirms_a_resolution_and_it_closes,
    only_the_reporter_disputes_a_resolution_and_it_reopens,
    only_the_reporter_rates_a_resolution_and_only_once,
);

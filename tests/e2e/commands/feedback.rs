//! Comments and the reporter's answer to a resolution (confirm, dispute, rate), for every actor.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::Cmd::{Comment, Confirm, Dispute, InternalComment, Rate};
use super::Expect::{Done, Refused};
use super::Stage::{
    Closed, Filed, InProgress, OnHold, Rated, Rejected, Reopened, Resolved, Withdrawn,
};
use super::Who::{
    Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service, SkilledStaff,
    UnskilledStaff, Warden,
};
use super::{run_table, COMPLAINT_NOT_FOUND, INVALID_TRANSITION, NOT_PERMITTED};

async fn the_reporter_and_the_staff_side_comment_but_only_staff_comment_internally(
    backend: Backend,
) {
    run_table(
        backend,
        &[
            (InProgress, Reporter, Comment, Done("in_progress")),
            (
                InProgress,
                Reporter,
                InternalComment,
                Refused(StatusCode::FORBIDDEN, "internal_comment_not_allowed"),
            ),
            (InProgress, OtherResident, Comment, COMPLAINT_NOT_FOUND),
            (InProgress, SkilledStaff, Comment, Done("in_progress")),
            (
                InProgress,
                SkilledStaff,
                InternalComment,
                Done("in_progress"),
            ),
            (
                InProgress,
                UnskilledStaff,
                InternalComment,
                Done("in_progress"),
            ),
            (InProgress, Warden, InternalComment, Done("in_progress")),
            (InProgress, Admin, Comment, Done("in_progress")),
            (InProgress, Auditor, Comment, NOT_PERMITTED),
            (InProgress, Service, Comment, NOT_PERMITTED),
            (InProgress, ForeignWarden, Comment, COMPLAINT_NOT_FOUND),
            (
                InProgress,
                ForeignStaff,
                InternalComment,
                COMPLAINT_NOT_FOUND,
            ),
            (Filed, Reporter, Comment, Done("filed")),
            (OnHold, Warden, Comment, Done("on_hold")),
            (Closed, Reporter, Comment, Done("closed")),
            (Rejected, Reporter, Comment, INVALID_TRANSITION),
            (Withdrawn, Warden, InternalComment, INVALID_TRANSITION),
        ],
    )
    .await;
}

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
    the_reporter_and_the_staff_side_comment_but_only_staff_comment_internally,
    only_the_reporter_confirms_a_resolution_and_it_closes,
    only_the_reporter_disputes_a_resolution_and_it_reopens,
    only_the_reporter_rates_a_resolution_and_only_once,
);

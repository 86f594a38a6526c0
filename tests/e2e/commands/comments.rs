//! The `comments` family over HTTP: the reporter and the staff side comment, only the staff side
//! comments internally, and talk goes on after a complaint is closed but not once it is rejected or
//! withdrawn, for every actor.

use cms_tests::Backend;
use reqwest::StatusCode;

use super::Cmd::{Comment, InternalComment};
use super::Expect::{Done, Refused};
use super::Stage::{Closed, Filed, InProgress, OnHold, Rejected, Withdrawn};
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

on_both_backends!(the_reporter_and_the_staff_side_comment_but_only_staff_comment_internally);

//! The `closing` family over HTTP: a warden or an admin ends a complaint, closing it at any open
//! status or rejecting it before work starts, for every actor.

use cms_tests::Backend;

use super::Cmd::{Close, Reject};
use super::Expect::Done;
use super::Stage::{
    Assigned, Closed, Filed, InProgress, OnHold, Rejected, Reopened, Resolved, Triaged, Withdrawn,
};
use super::Who::{
    Admin, Auditor, ForeignStaff, ForeignWarden, OtherResident, Reporter, Service, SkilledStaff,
    UnskilledStaff, Warden,
};
use super::{run_table, COMPLAINT_NOT_FOUND, INVALID_TRANSITION, NOT_PERMITTED};

async fn wardens_and_admins_close_any_open_complaint(backend: Backend) {
    run_table(
        backend,
        &[
            (InProgress, Reporter, Close, NOT_PERMITTED),
            (InProgress, OtherResident, Close, COMPLAINT_NOT_FOUND),
            (InProgress, SkilledStaff, Close, NOT_PERMITTED),
            (InProgress, UnskilledStaff, Close, NOT_PERMITTED),
            (InProgress, Warden, Close, Done("closed")),
            (InProgress, Admin, Close, Done("closed")),
            (InProgress, Auditor, Close, NOT_PERMITTED),
            (InProgress, Service, Close, NOT_PERMITTED),
            (InProgress, ForeignWarden, Close, COMPLAINT_NOT_FOUND),
            (InProgress, ForeignStaff, Close, COMPLAINT_NOT_FOUND),
            (Filed, Warden, Close, Done("closed")),
            (OnHold, Warden, Close, Done("closed")),
            (Resolved, Admin, Close, Done("closed")),
            (Reopened, Warden, Close, Done("closed")),
            (Closed, Warden, Close, INVALID_TRANSITION),
            (Rejected, Admin, Close, INVALID_TRANSITION),
            (Withdrawn, Warden, Close, INVALID_TRANSITION),
        ],
    )
    .await;
}

async fn wardens_and_admins_reject_a_complaint_before_work_starts(backend: Backend) {
    run_table(
        backend,
        &[
            (Filed, Reporter, Reject, NOT_PERMITTED),
            (Filed, OtherResident, Reject, COMPLAINT_NOT_FOUND),
            (Filed, SkilledStaff, Reject, NOT_PERMITTED),
            (Filed, UnskilledStaff, Reject, NOT_PERMITTED),
            (Filed, Warden, Reject, Done("rejected")),
            (Filed, Admin, Reject, Done("rejected")),
            (Filed, Auditor, Reject, NOT_PERMITTED),
            (Filed, Service, Reject, NOT_PERMITTED),
            (Filed, ForeignWarden, Reject, COMPLAINT_NOT_FOUND),
            (Filed, ForeignStaff, Reject, COMPLAINT_NOT_FOUND),
            (Triaged, Warden, Reject, Done("rejected")),
            (Assigned, Warden, Reject, Done("rejected")),
            (InProgress, Warden, Reject, INVALID_TRANSITION),
            (Resolved, Admin, Reject, INVALID_TRANSITION),
            (Rejected, Warden, Reject, INVALID_TRANSITION),
        ],
    )
    .await;
}

on_both_backends!(
    wardens_and_admins_close_any_open_complaint,
    wardens_and_admins_reject_a_complaint_before_work_starts,
);

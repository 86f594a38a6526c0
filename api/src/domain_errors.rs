//! The one mapping from domain refusals and executor failures to HTTP: a status and a stable code per
//! variant. The matches are exhaustive, so a new domain error cannot ship without a code.

use axum::http::StatusCode;
use cms_domain::complaint::ComplaintError;
use cms_domain::hostel::HostelError;

use crate::commands::executor::ExecuteError;
use crate::error::ApiError;

impl From<ComplaintError> for ApiError {
    fn from(error: ComplaintError) -> Self {
        use ComplaintError as E;
        use StatusCode as S;
        let (status, code) = match &error {
            E::NotFiled => (S::NOT_FOUND, "complaint_not_found"),
            E::AlreadyFiled => (S::CONFLICT, "complaint_already_filed"),
            E::HostelMismatch { .. } => (S::UNPROCESSABLE_ENTITY, "hostel_mismatch"),
            E::NotPermitted { .. } => (S::FORBIDDEN, "action_not_permitted"),
            E::OutOfScope => (S::NOT_FOUND, "complaint_not_found"),
            E::NotReporter => (S::FORBIDDEN, "not_reporter"),
            E::NotAssignee => (S::FORBIDDEN, "not_assignee"),
            E::InvalidTransition { .. } => (S::CONFLICT, "invalid_transition"),
            E::InvalidTitle => (S::UNPROCESSABLE_ENTITY, "invalid_title"),
            E::InvalidDescription => (S::UNPROCESSABLE_ENTITY, "invalid_description"),
            E::InvalidRoom => (S::UNPROCESSABLE_ENTITY, "invalid_room"),
            E::UnknownCategory { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_category"),
            E::UnknownWing { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_wing"),
            E::InvalidText { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_text"),
            E::InvalidHoldUntil => (S::UNPROCESSABLE_ENTITY, "invalid_hold_until"),
            E::AssigneeNotStaff { .. } => (S::UNPROCESSABLE_ENTITY, "assignee_not_staff"),
            E::AssigneeLacksSkill { .. } => (S::UNPROCESSABLE_ENTITY, "assignee_lacks_skill"),
            E::SelfAssignmentNotAllowed => (S::FORBIDDEN, "self_assignment_not_allowed"),
            E::AlreadyAssigned { .. } => (S::CONFLICT, "already_assigned"),
            E::DisputeWindowClosed { .. } => (S::CONFLICT, "dispute_window_closed"),
            E::AlreadyRated => (S::CONFLICT, "already_rated"),
            E::InvalidRating { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_rating"),
            E::PhotoLimitReached { .. } => (S::CONFLICT, "photo_limit_reached"),
            E::UnknownPhoto { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_photo"),
            E::PhotoNotAfter { .. } => (S::UNPROCESSABLE_ENTITY, "photo_not_after"),
            E::InvalidPhoto { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_photo"),
            E::InternalCommentNotAllowed => (S::FORBIDDEN, "internal_comment_not_allowed"),
        };
        let message = match &error {
            E::OutOfScope => "complaint not found".to_owned(),
            other => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<HostelError> for ApiError {
    fn from(error: HostelError) -> Self {
        use HostelError as E;
        use StatusCode as S;
        let (status, code) = match &error {
            E::NotRegistered => (S::NOT_FOUND, "hostel_not_found"),
            E::AlreadyRegistered => (S::CONFLICT, "hostel_already_registered"),
            E::NotPermitted { .. } => (S::FORBIDDEN, "action_not_permitted"),
            E::OutOfScope => (S::NOT_FOUND, "hostel_not_found"),
            E::InvalidName => (S::UNPROCESSABLE_ENTITY, "invalid_name"),
            E::InvalidCategoryName => (S::UNPROCESSABLE_ENTITY, "invalid_category_name"),
            E::InvalidStaffName => (S::UNPROCESSABLE_ENTITY, "invalid_staff_name"),
            E::InvalidRoomPattern { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_room_pattern"),
            E::DuplicateWing { .. } => (S::UNPROCESSABLE_ENTITY, "duplicate_wing"),
            E::NoCategories => (S::UNPROCESSABLE_ENTITY, "no_categories"),
            E::DuplicateCategory { .. } => (S::CONFLICT, "duplicate_category"),
            E::UnknownCategory { .. } => (S::UNPROCESSABLE_ENTITY, "unknown_category"),
            E::CategoryRetired { .. } => (S::CONFLICT, "category_retired"),
            E::LastActiveCategory { .. } => (S::CONFLICT, "last_active_category"),
            E::UnknownStaffMember { .. } => (S::NOT_FOUND, "staff_member_not_found"),
            E::DuplicateStaffMember { .. } => (S::CONFLICT, "duplicate_staff_member"),
            E::InvalidPolicy { .. } => (S::UNPROCESSABLE_ENTITY, "invalid_policy"),
        };
        let message = match &error {
            E::OutOfScope => "hostel not found".to_owned(),
            other => other.to_string(),
        };
        ApiError::new(status, code, message)
    }
}

impl<E> From<ExecuteError<E>> for ApiError
where
    E: std::error::Error + Into<ApiError>,
{
    fn from(error: ExecuteError<E>) -> Self {
        match error {
            ExecuteError::Domain(e) => e.into(),
            ExecuteError::Conflict => ApiError::conflict(
                "concurrent_modification",
                "the resource kept changing while the command ran; retry it",
            ),
            ExecuteError::KeyReused => ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for a different request",
            ),
            ExecuteError::Store(e) => ApiError::internal(e),
        }
    }
}

impl From<cms_eventstore::store::StoreError> for ApiError {
    fn from(error: cms_eventstore::store::StoreError) -> Self {
        ApiError::internal(error)
    }
}

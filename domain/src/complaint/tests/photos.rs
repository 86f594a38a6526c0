//! Photo attachment and thumbnail rules.

use super::fixtures::*;
use crate::complaint::*;

fn thumbs(n: u8) -> Vec<Thumbnail> {
    vec![
        Thumbnail {
            size: ThumbnailSize::Thumb320,
            object_key: format!("thumbs/{n}-320.jpg"),
            width: 320,
            height: 240,
        },
        Thumbnail {
            size: ThumbnailSize::Large1024,
            object_key: format!("thumbs/{n}-1024.jpg"),
            width: 1024,
            height: 768,
        },
    ]
}

fn record(n: u8) -> ComplaintAction {
    ComplaintAction::RecordThumbnail {
        photo_id: photo_id(u128::from(n)),
        thumbnails: thumbs(n),
    }
}

fn failure(n: u8) -> ComplaintAction {
    ComplaintAction::RecordThumbnailFailure {
        photo_id: photo_id(u128::from(n)),
        reason: "not an image".to_owned(),
    }
}

fn attach_with(
    edit: impl FnOnce(&mut String, &mut String, &mut u64, &mut String),
) -> ComplaintAction {
    let mut action = photo(1, PhotoRole::Before);
    if let ComplaintAction::AttachPhoto {
        object_key,
        content_type,
        size,
        sha256,
        ..
    } = &mut action
    {
        edit(object_key, content_type, size, sha256);
    }
    action
}

#[test]
fn the_reporter_attaches_before_photos_but_not_after_photos() {
    let story = filed();
    let events = story.when(reporter(), photo(1, PhotoRole::Before)).unwrap();
    assert_eq!(
        events,
        vec![ComplaintEvent::PhotoAttached {
            photo_id: photo_id(1),
            object_key: "photos/1.jpg".to_owned(),
            content_type: "image/jpeg".to_owned(),
            size: 1000,
            sha256: sha(1),
            role: PhotoRole::Before,
            by: uid("res-1"),
            at: t(2),
        }]
    );
    assert_eq!(
        story.when(reporter(), after_photo(1)),
        Err(forbidden(&reporter(), ActionKind::AttachPhoto))
    );
    assert_eq!(
        story.when(other_resident(), photo(1, PhotoRole::Before)),
        Err(ComplaintError::NotReporter)
    );
}

#[test]
fn staff_wardens_and_admins_attach_either_role_and_others_may_not() {
    let story = in_progress();
    for by in [plumber(), sparky(), warden(), admin()] {
        for role in [PhotoRole::Before, PhotoRole::After] {
            assert!(story.when(by.clone(), photo(1, role)).is_ok());
        }
    }
    for by in [auditor(), service()] {
        assert_eq!(
            story.when(by.clone(), after_photo(1)),
            Err(forbidden(&by, ActionKind::AttachPhoto))
        );
    }
    assert_eq!(
        story.when(far_warden(), after_photo(1)),
        Err(ComplaintError::OutOfScope)
    );
}

#[test]
fn photos_are_refused_on_terminal_complaints() {
    for (status, story) in every_status() {
        let result = story.when(warden(), after_photo(1));
        if status.is_terminal() {
            assert_eq!(result, Err(invalid(ActionKind::AttachPhoto, status)));
        } else {
            assert!(result.is_ok(), "{status}");
        }
    }
}

#[test]
fn attaching_the_same_digest_again_is_a_no_op() {
    let story = filed().then(reporter(), photo(1, PhotoRole::Before));
    let again = attach_with(|_, _, _, _| {});
    assert_eq!(story.when(reporter(), again), Ok(vec![]));
    assert_eq!(story.state().photos().len(), 1);
}

#[test]
fn a_photo_id_cannot_be_reused_for_another_digest() {
    let story = filed().then(reporter(), photo(1, PhotoRole::Before));
    let other = attach_with(|_, _, _, sha256| *sha256 = sha(7));
    assert_eq!(
        story.when(reporter(), other),
        Err(ComplaintError::InvalidPhoto {
            problem: PhotoProblem::DuplicateId
        })
    );
}

#[test]
fn a_complaint_holds_at_most_ten_photos() {
    let mut story = filed();
    for n in 1..=10 {
        story = story.then(reporter(), photo(n, PhotoRole::Before));
    }
    assert_eq!(story.state().photos().len(), MAX_PHOTOS);
    assert_eq!(
        story.when(reporter(), photo(11, PhotoRole::Before)),
        Err(ComplaintError::PhotoLimitReached { limit: 10 })
    );
    assert_eq!(
        story.when(reporter(), photo(3, PhotoRole::Before)),
        Ok(vec![])
    );
}

#[test]
fn malformed_uploads_are_refused() {
    let story = filed();
    let cases = [
        (attach_with(|k, _, _, _| k.clear()), PhotoProblem::ObjectKey),
        (
            attach_with(|k, _, _, _| *k = "a\nb".to_owned()),
            PhotoProblem::ObjectKey,
        ),
        (
            attach_with(|_, c, _, _| *c = "image/gif".to_owned()),
            PhotoProblem::ContentType,
        ),
        (attach_with(|_, _, s, _| *s = 0), PhotoProblem::Size),
        (
            attach_with(|_, _, s, _| *s = MAX_PHOTO_BYTES + 1),
            PhotoProblem::Size,
        ),
        (
            attach_with(|_, _, _, h| *h = "AB".repeat(32)),
            PhotoProblem::Sha256,
        ),
        (
            attach_with(|_, _, _, h| *h = "ab".repeat(31)),
            PhotoProblem::Sha256,
        ),
    ];
    for (action, problem) in cases {
        assert_eq!(
            story.when(reporter(), action),
            Err(ComplaintError::InvalidPhoto { problem })
        );
    }
    assert!(story
        .when(reporter(), attach_with(|_, _, s, _| *s = MAX_PHOTO_BYTES))
        .is_ok());
}

#[test]
fn the_service_role_or_an_admin_records_thumbnails_once() {
    let story = filed().then(reporter(), photo(1, PhotoRole::Before));
    for by in [service(), admin()] {
        assert_eq!(
            story.when(by.clone(), record(1)).unwrap(),
            vec![ComplaintEvent::ThumbnailGenerated {
                photo_id: photo_id(1),
                thumbnails: thumbs(1),
                by: by.id.clone(),
                at: t(3),
            }]
        );
    }
    for by in [reporter(), plumber(), warden(), auditor()] {
        assert_eq!(
            story.when(by.clone(), record(1)),
            Err(forbidden(&by, ActionKind::RecordThumbnail))
        );
    }
    let done = story.then(service(), record(1));
    assert_eq!(done.state().photos()[0].thumbnails, thumbs(1));
    assert_eq!(done.when(service(), record(1)), Ok(vec![]));
    assert_eq!(done.when(service(), failure(1)), Ok(vec![]));
}

#[test]
fn thumbnails_may_be_recorded_in_any_status() {
    let story = filed().then(reporter(), photo(1, PhotoRole::Before));
    let late = story.then(reporter(), ComplaintAction::Withdraw { reason: None });
    assert!(late.when(service(), record(1)).is_ok());
    assert!(late.when(service(), failure(1)).is_ok());
}

#[test]
fn thumbnails_for_an_unknown_photo_or_malformed_are_refused() {
    let story = filed().then(reporter(), photo(1, PhotoRole::Before));
    assert_eq!(
        story.when(service(), record(2)),
        Err(ComplaintError::UnknownPhoto {
            photo_id: photo_id(2)
        })
    );
    assert_eq!(
        story.when(service(), failure(2)),
        Err(ComplaintError::UnknownPhoto {
            photo_id: photo_id(2)
        })
    );
    let mut doubled = thumbs(1);
    doubled[1].size = ThumbnailSize::Thumb320;
    for thumbnails in [vec![], doubled] {
        let action = ComplaintAction::RecordThumbnail {
            photo_id: photo_id(1),
            thumbnails,
        };
        assert_eq!(
            story.when(service(), action),
            Err(ComplaintError::InvalidPhoto {
                problem: PhotoProblem::Thumbnails
            })
        );
    }
}

#[test]
fn a_thumbnail_failure_is_recorded_once_and_a_later_success_still_counts() {
    let story = filed()
        .then(reporter(), photo(1, PhotoRole::Before))
        .then(service(), failure(1));
    assert_eq!(
        story.state().photos()[0].thumbnail_failed.as_deref(),
        Some("not an image")
    );
    assert_eq!(story.when(service(), failure(1)), Ok(vec![]));
    assert!(story.when(service(), record(1)).is_ok());
    let blank = ComplaintAction::RecordThumbnailFailure {
        photo_id: photo_id(1),
        reason: "".to_owned(),
    };
    let fresh = filed().then(reporter(), photo(1, PhotoRole::Before));
    assert_eq!(
        fresh.when(service(), blank),
        Err(ComplaintError::InvalidText {
            field: TextField::Reason
        })
    );
}

//! The photo sweep (`cms photos sweep`): deletes the objects of photos that no complaint attached.
//!
//! They come from presigned uploads that were never completed or did not match their declaration
//! (the key cannot be reused, docs/adr/0010), and from multipart uploads whose command then failed.
//! A photo's objects live in one folder, `photos/<complaint>/<photo>/`; the folder goes when the
//! complaint's events attach no such photo and its newest object is older than the grace period.
//! The grace period must exceed [`COMPLETE_WITHIN`] (an upload cannot be completed later), so an
//! upload being completed is never swept from under it. Attached photos are never touched: their
//! uploads are kept as evidence, their renditions are served. Nor is a folder holding renditions
//! whose photo the log does not know (the worker renders only attached photos, so the database was
//! restored from a backup older than the photo): it is counted and left for an operator.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cms_domain::complaint::{Complaint, ThumbnailSize};
use cms_domain::ids::{ComplaintId, PhotoId};

use crate::commands::executor::Executor;
use crate::objects::{ObjectError, ObjectInfo, ObjectStore};
use crate::photos::keys;

/// How long after its presigned URL expired an upload may still be completed.
pub const COMPLETE_WITHIN: Duration = Duration::from_secs(3600);

/// The shortest grace period the sweep accepts: an upload's URL lives 5 minutes and it may be
/// completed for [`COMPLETE_WITHIN`] after that; a margin on top.
pub const MIN_GRACE: Duration = Duration::from_secs(2 * 3600);

/// Where photos live in the object store.
const PREFIX: &str = "photos/";

/// What a sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Photo folders seen.
    pub folders: usize,
    /// Folders of attached photos (kept).
    pub attached: usize,
    /// Folders of unattached photos written within the grace period (kept for now).
    pub recent: usize,
    /// Folders of unattached photos past the grace period (deleted unless a dry run).
    pub orphaned: usize,
    /// Objects in those folders.
    pub orphaned_objects: usize,
    /// Objects deleted.
    pub deleted: usize,
    /// Objects whose keys are not `photos/<complaint id>/<photo id>/<name>` (never deleted).
    pub unrecognised: usize,
    /// Folders with renditions of a photo the log does not attach (never deleted: the database
    /// may have been restored from an older backup).
    pub rendered_unknown: usize,
}

/// One photo's folder: its objects and the newest write among them.
struct Folder {
    keys: Vec<String>,
    newest: DateTime<Utc>,
}

/// Sweeps once: every photo folder whose photo is not attached to its complaint and whose newest
/// object is older than `grace` (at least [`MIN_GRACE`]) is deleted, or only counted when
/// `dry_run`.
///
/// # Errors
/// A grace period under [`MIN_GRACE`], the object store or the event store failing. Deletes done
/// before a failure stay done (a later sweep finishes the rest).
pub async fn sweep(
    executor: &Executor,
    objects: &dyn ObjectStore,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<SweepReport> {
    anyhow::ensure!(
        grace >= MIN_GRACE,
        "the grace period must be at least {} hours (uploads may be completed for an hour after their URL expires)",
        MIN_GRACE.as_secs() / 3600
    );
    let cutoff = Utc::now() - chrono::Duration::from_std(grace)?;
    let mut report = SweepReport::default();
    let mut by_complaint: BTreeMap<ComplaintId, BTreeMap<PhotoId, Folder>> = BTreeMap::new();
    for ObjectInfo { key, modified } in objects.list_tree(PREFIX).await? {
        let Some((complaint, photo)) = folder_of(&key) else {
            report.unrecognised += 1;
            continue;
        };
        let folder = by_complaint
            .entry(complaint)
            .or_default()
            .entry(photo)
            .or_insert_with(|| Folder {
                keys: Vec::new(),
                newest: modified,
            });
        folder.newest = folder.newest.max(modified);
        folder.keys.push(key);
    }
    for (complaint, folders) in by_complaint {
        report.folders += folders.len();
        let state = executor
            .load::<Complaint>(&complaint.to_string())
            .await?
            .state;
        for (photo, folder) in folders {
            if state.state().is_some_and(|s| s.photo(&photo).is_some()) {
                report.attached += 1;
            } else if folder
                .keys
                .iter()
                .any(|k| is_rendition(k, complaint, photo))
            {
                report.rendered_unknown += 1;
            } else if folder.newest > cutoff {
                report.recent += 1;
            } else {
                report.orphaned += 1;
                report.orphaned_objects += folder.keys.len();
                if !dry_run {
                    report.deleted += delete_all(objects, &folder.keys).await?;
                }
            }
        }
    }
    Ok(report)
}

/// The complaint and photo of `photos/<complaint>/<photo>/<name>`.
fn folder_of(key: &str) -> Option<(ComplaintId, PhotoId)> {
    // Exactly as `photos::keys` writes them: canonical (hyphenated, lowercase) UUIDs.
    let uuid = |part: &str| {
        uuid::Uuid::parse_str(part)
            .ok()
            .filter(|id| id.to_string() == part)
    };
    let mut parts = key.strip_prefix(PREFIX)?.split('/');
    let complaint = ComplaintId::new(uuid(parts.next()?)?);
    let photo = PhotoId::new(uuid(parts.next()?)?);
    let _name = parts.next()?;
    parts.next().is_none().then_some((complaint, photo))
}

/// Whether `key` is one of the worker's renditions of `photo`.
fn is_rendition(key: &str, complaint: ComplaintId, photo: PhotoId) -> bool {
    key == keys::full(complaint, photo)
        || [ThumbnailSize::Thumb320, ThumbnailSize::Large1024]
            .into_iter()
            .any(|size| key == keys::thumbnail(complaint, photo, size))
}

async fn delete_all(objects: &dyn ObjectStore, keys: &[String]) -> Result<usize, ObjectError> {
    for key in keys {
        objects.delete(key).await?;
    }
    Ok(keys.len())
}

#[cfg(test)]
mod tests {
    use super::folder_of;

    #[test]
    fn only_photo_folders_with_valid_ids_are_recognised() {
        let c = "0190f1c2-0000-7000-8000-000000000001";
        let p = "0190f1c2-0000-7000-8000-0000000000a1";
        assert!(folder_of(&format!("photos/{c}/{p}/upload")).is_some());
        assert!(folder_of(&format!("photos/{c}/{p}/thumb-320.jpg")).is_some());
        assert!(folder_of(&format!("photos/{c}/{p}")).is_none());
        assert!(folder_of(&format!("photos/{c}/{p}/a/b")).is_none());
        assert!(folder_of(&format!("photos/not-an-id/{p}/upload")).is_none());
        assert!(folder_of(&format!("audit/{c}/{p}/upload")).is_none());
    }
}

//! The object store's settings: an S3 bucket when `CMS_S3_ENDPOINT` is set (photos, thumbnails and
//! audit checkpoint copies), else the folder `<data_dir>/objects`.

use std::sync::Arc;

use super::types::{non_empty, non_empty_secret};
use super::DataDir;
use crate::objects::{LocalFolder, ObjectStore, S3Config, S3Store};
use crate::secret::Secret;

/// The S3 endpoint, bucket and static credentials.
#[derive(Clone, Debug, clap::Args)]
pub struct S3Settings {
    /// S3 endpoint URL (for example `http://127.0.0.1:9000`); absent: photos and checkpoint copies in
    /// `<data_dir>/objects`.
    #[arg(long, global = true, env = "CMS_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 bucket for photos and thumbnails.
    #[arg(long, global = true, env = "CMS_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3 region.
    #[arg(
        long,
        global = true,
        env = "CMS_S3_REGION",
        default_value = "us-east-1"
    )]
    pub s3_region: String,

    /// S3 access key id (static credentials).
    #[arg(
        long,
        global = true,
        env = "CMS_S3_ACCESS_KEY_ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// S3 secret access key (static credentials).
    #[arg(
        long,
        global = true,
        env = "CMS_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<Secret<String>>,
}

impl S3Settings {
    /// `CMS_S3_ENDPOINT`, if set and not empty.
    pub fn endpoint(&self) -> Option<&str> {
        non_empty(&self.s3_endpoint)
    }

    /// `CMS_S3_BUCKET`, if set and not empty.
    pub fn bucket(&self) -> Option<&str> {
        non_empty(&self.s3_bucket)
    }

    /// `CMS_S3_ACCESS_KEY_ID`, if set and not empty.
    pub fn access_key_id(&self) -> Option<&str> {
        non_empty(&self.s3_access_key_id)
    }

    /// `CMS_S3_SECRET_ACCESS_KEY`, if set and not empty.
    pub fn secret_access_key(&self) -> Option<&str> {
        non_empty_secret(&self.s3_secret_access_key)
    }

    /// The object store: the S3 bucket when `CMS_S3_ENDPOINT` is set, else the folder
    /// `<data_dir>/objects` (the embedded default).
    ///
    /// # Errors
    /// An S3 endpoint without a bucket or without both static credentials.
    pub fn object_store(&self, data_dir: &DataDir) -> anyhow::Result<Arc<dyn ObjectStore>> {
        match self.config()? {
            Some(config) => Ok(Arc::new(S3Store::new(&config))),
            None => Ok(Arc::new(LocalFolder::new(data_dir.objects()))),
        }
    }

    /// The S3 settings, when `CMS_S3_ENDPOINT` is set.
    ///
    /// # Errors
    /// The endpoint is set but the bucket or a credential is missing.
    pub fn config(&self) -> anyhow::Result<Option<S3Config>> {
        let Some(endpoint) = self.endpoint() else {
            return Ok(None);
        };
        let missing = |name: &str| {
            anyhow::anyhow!("CMS_S3_ENDPOINT is set but {name} is not (it is required with S3)")
        };
        Ok(Some(S3Config {
            endpoint: endpoint.to_owned(),
            bucket: self
                .bucket()
                .ok_or_else(|| missing("CMS_S3_BUCKET"))?
                .to_owned(),
            region: self.s3_region.clone(),
            access_key_id: Secret::new(
                self.access_key_id()
                    .ok_or_else(|| missing("CMS_S3_ACCESS_KEY_ID"))?
                    .to_owned(),
            ),
            secret_access_key: Secret::new(
                self.secret_access_key()
                    .ok_or_else(|| missing("CMS_S3_SECRET_ACCESS_KEY"))?
                    .to_owned(),
            ),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::test_support::parse;

    #[test]
    fn an_s3_endpoint_needs_a_bucket_and_both_credentials() {
        let full = [
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-bucket",
            "photos",
            "--s3-access-key-id",
            "id",
            "--s3-secret-access-key",
            "secret",
        ];
        assert!(parse(&full).s3.config().unwrap().is_some());
        assert!(parse(&[]).s3.config().unwrap().is_none());
        for drop in [2, 4, 6] {
            let mut args = full.to_vec();
            args.drain(drop..drop + 2);
            let error = parse(&args).s3.config().unwrap_err().to_string();
            assert!(error.contains("CMS_S3_"), "{error}");
        }
    }
}

//! [`S3Store`]: objects in one bucket of an S3-compatible service through aws-sdk-s3 (custom
//! endpoint, path-style addressing, static credentials, a ring-only rustls HTTP client).
//!
//! Put-if-absent sends `If-None-Match: *`, which S3 (since 2024) and s3s-fs 0.14 honour, and looks
//! first with HEAD so that an identical re-put (a retried thumbnail, an idempotent checkpoint copy)
//! answers [`Put::AlreadyPresent`] without uploading again (docs/adr/0010).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::{check_key, ObjectBody, ObjectError, ObjectInfo, ObjectStore, Presigned, Put};
use crate::secret::Secret;

/// Where and how to reach the bucket.
#[derive(Clone)]
pub struct S3Config {
    /// Endpoint URL, e.g. `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// The bucket every object goes to.
    pub bucket: String,
    /// Signing region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// Static access key id.
    pub access_key_id: Secret<String>,
    /// Static secret access key.
    pub secret_access_key: Secret<String>,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &"<redacted>")
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Objects in an S3 bucket.
#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    endpoint: String,
    bucket: String,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

fn remote<E, R>(operation: &str, key: &str, error: &SdkError<E, R>) -> ObjectError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    let detail = match error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!(
                "{} {}",
                e.code().unwrap_or("error"),
                e.message().unwrap_or_default()
            )
        }
        other => other.to_string(),
    };
    ObjectError::Remote(format!("{operation} {key}: {detail}"))
}

fn status_of<E, R>(error: &SdkError<E, R>) -> Option<u16>
where
    R: HttpStatus,
{
    error.raw_response().map(HttpStatus::status_code)
}

/// The HTTP status of a raw SDK response.
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

impl S3Store {
    /// A client for `config` (no request is sent yet).
    pub fn new(config: &S3Config) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let credentials = Credentials::new(
            config.access_key_id.expose().clone(),
            config.secret_access_key.expose().clone(),
            None,
            None,
            "cms-static",
        );
        let sdk = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .endpoint_url(config.endpoint.clone())
            .force_path_style(true)
            .credentials_provider(credentials)
            .http_client(http)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(sdk),
            endpoint: config.endpoint.clone(),
            bucket: config.bucket.clone(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Checks that the bucket exists and the credentials work.
    ///
    /// # Errors
    /// The bucket is missing, the credentials are refused, or the endpoint is unreachable.
    pub async fn check_bucket(&self) -> Result<(), ObjectError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| remote("HeadBucket", &self.bucket, &e))
    }

    /// Creates the bucket when it does not exist (test servers and first-run setups).
    ///
    /// # Errors
    /// The service refuses for another reason than "it exists and is yours".
    pub async fn create_bucket_if_missing(&self) -> Result<(), ObjectError> {
        if self.check_bucket().await.is_ok() {
            return Ok(());
        }
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let owned = e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                });
                if owned {
                    Ok(())
                } else {
                    Err(remote("CreateBucket", &self.bucket, &e))
                }
            }
        }
    }

    /// Every object under the folder `prefix`, all pages of `ListObjectsV2`: only those directly in
    /// it ([`Depth::Folder`]) or at any depth ([`Depth::Tree`]).
    async fn list_objects(
        &self,
        prefix: &str,
        depth: Depth,
    ) -> Result<Vec<aws_sdk_s3::types::Object>, ObjectError> {
        let folder = prefix.trim_end_matches('/');
        check_key(folder)?;
        let prefix = format!("{folder}/");
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .set_delimiter((depth == Depth::Folder).then(|| "/".to_owned()))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| remote("ListObjectsV2", &prefix, &e))?;
            let next = page.next_continuation_token().map(str::to_owned);
            let truncated = page.is_truncated() == Some(true);
            objects.extend(page.contents.unwrap_or_default());
            match next {
                Some(next) if truncated => token = Some(next),
                _ => break,
            }
        }
        Ok(objects)
    }

    async fn same_bytes(&self, key: &str, bytes: &[u8]) -> Result<Put, ObjectError> {
        match self.get(key).await? {
            Some(found) if found == bytes => Ok(Put::AlreadyPresent),
            Some(_) => Err(ObjectError::Conflict(key.to_owned())),
            // Deleted between the check and the read: not ours to recreate silently.
            None => Err(ObjectError::Remote(format!(
                "PutObject {key}: the object vanished while comparing"
            ))),
        }
    }

    fn presigning(ttl: Duration) -> Result<PresigningConfig, ObjectError> {
        PresigningConfig::expires_in(ttl)
            .map_err(|e| ObjectError::Remote(format!("presigning config: {e}")))
    }
}

/// How deep a listing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// The objects directly in the folder.
    Folder,
    /// Every object below it.
    Tree,
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Put, ObjectError> {
        check_key(key)?;
        if let Some(size) = self.size(key).await? {
            if size != bytes.len() as u64 {
                return Err(ObjectError::Conflict(key.to_owned()));
            }
            return self.same_bytes(key, bytes).await;
        }
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_length(bytes.len() as i64)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Put::Created),
            // 412: another writer created it first; 409: a conflicting concurrent conditional write.
            Err(e) if matches!(status_of(&e), Some(412 | 409)) => self.same_bytes(key, bytes).await,
            Err(e) => Err(remote("PutObject", key, &e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let Some(body) = self.open(key).await? else {
            return Ok(None);
        };
        use futures::TryStreamExt;
        let chunks: Vec<Bytes> = body.stream.try_collect().await?;
        Ok(Some(chunks.concat()))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, ObjectError> {
        check_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.content_length()
                    .map_or(0, |n| u64::try_from(n).unwrap_or(0)),
            )),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(remote("HeadObject", key, &e)),
        }
    }

    async fn open(&self, key: &str) -> Result<Option<ObjectBody>, ObjectError> {
        check_key(key)?;
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(remote("GetObject", key, &e)),
        };
        let size = output
            .content_length()
            .map_or(0, |n| u64::try_from(n).unwrap_or(0));
        let key = key.to_owned();
        let stream = futures::stream::try_unfold(output.body, move |mut body| {
            let key = key.clone();
            async move {
                match body.next().await {
                    None => Ok(None),
                    Some(Ok(chunk)) => Ok(Some((chunk, body))),
                    Some(Err(e)) => Err(ObjectError::Remote(format!("GetObject {key}: {e}"))),
                }
            }
        });
        Ok(Some(ObjectBody {
            size,
            stream: Box::pin(stream),
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys: Vec<String> = self
            .list_objects(prefix, Depth::Folder)
            .await?
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        Ok(keys)
    }

    async fn list_tree(&self, prefix: &str) -> Result<Vec<ObjectInfo>, ObjectError> {
        let mut found: Vec<ObjectInfo> = self
            .list_objects(prefix, Depth::Tree)
            .await?
            .iter()
            .filter_map(|object| {
                let (key, modified) = (object.key()?, object.last_modified()?);
                Some(ObjectInfo {
                    key: key.to_owned(),
                    modified: chrono::DateTime::from_timestamp(
                        modified.secs(),
                        modified.subsec_nanos(),
                    )
                    .unwrap_or_default(),
                })
            })
            .collect();
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| remote("DeleteObject", key, &e))?;
        Ok(())
    }

    async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<Presigned>, ObjectError> {
        check_key(key)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(|e| remote("presign GetObject", key, &e))?;
        Ok(Some(Presigned {
            method: "GET",
            url: request.uri().to_owned(),
            headers: Vec::new(),
        }))
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        ttl: Duration,
    ) -> Result<Option<Presigned>, ObjectError> {
        check_key(key)?;
        let length = i64::try_from(length)
            .map_err(|_| ObjectError::Remote(format!("presign PutObject {key}: length")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            // Signed too: the URL can create the object but never replace it.
            .if_none_match("*")
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(|e| remote("presign PutObject", key, &e))?;
        let headers = request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(Some(Presigned {
            method: "PUT",
            url: request.uri().to_owned(),
            headers,
        }))
    }
}

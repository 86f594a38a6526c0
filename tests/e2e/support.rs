//! A running CMS for end-to-end tests: a fresh database, the real router on a real listener (port 0),
//! an HTTP client, and tokens minted with the test's own HS256 key.

use std::sync::Arc;
use std::time::Duration;

use cms_api::app::Limits;
use cms_api::audit::AuditSigner;
use cms_api::auth::{JwtVerifier, TokenMinter, TokenSpec, VerifyingKeys};
use cms_api::objects::{LocalFolder, ObjectStore};
use cms_api::reads::Reads;
use cms_api::startup::{self, Service};
use cms_domain::actor::Role;
use cms_eventstore::store::EventStore;
use cms_tests::{Backend, TestDatabase};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const SECRET: &[u8] = b"end-to-end-test-secret-of-32-bytes!!";
pub const ISSUER: &str = "cms";
pub const AUDIENCE: &str = "cms-api";
pub const HOSTEL: &str = "north";
pub const BODY_LIMIT: usize = 16 * 1024;

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error code of an error envelope, or "" when there is none.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The `position` of a command's answer.
    pub fn position(&self) -> i64 {
        self.body["position"].as_i64().unwrap_or(-1)
    }
}

/// A CMS instance on its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: EventStore,
    pub backend: Backend,
    minter: TokenMinter,
    /// The database (shared by several instances in the fan-out tests; absent on a replica pair).
    _db: Option<Arc<TestDatabase>>,
    reads: Arc<Reads>,
    /// The highest log position any answer reported (what a client would send as `Min-Position`).
    seen: std::sync::atomic::AtomicI64,
    /// The bus, relay, hub and WebSocket gateway, when started with one.
    pub fanout: Option<cms_api::fanout::Fanout>,
    server: tokio::task::JoinHandle<()>,
    /// The projectors `cms serve` would run (absent when a test drives them itself).
    pub projectors: Option<cms_projections::runner::Projectors>,
    /// Where photos go (a temp folder unless the test gave another store).
    pub objects: Arc<dyn ObjectStore>,
    _objects_dir: Option<tempfile::TempDir>,
}

/// A local-folder object store in a temp dir that lives as long as the returned guard.
fn temp_objects() -> (Arc<dyn ObjectStore>, tempfile::TempDir) {
    let dir = tempfile::Builder::new()
        .prefix("cms-test-objects-")
        .tempdir()
        .unwrap();
    let objects: Arc<dyn ObjectStore> = Arc::new(LocalFolder::new(dir.path().join("objects")));
    (objects, dir)
}

/// What a test app is started with besides its database.
struct Parts {
    reads: Reads,
    db: Option<Arc<TestDatabase>>,
    objects: Arc<dyn ObjectStore>,
    objects_dir: Option<tempfile::TempDir>,
    fanout: Option<cms_api::fanout::FanoutOptions>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Starts CMS on a fresh database of `backend`, with its projectors running.
    pub async fn spawn(backend: Backend) -> Self {
        let mut app = Self::spawn_without_projectors(backend).await;
        app.start_projectors();
        app
    }

    /// Starts CMS on a fresh database of `backend` with `objects` as its object store, projectors
    /// running.
    pub async fn spawn_with_objects(backend: Backend, objects: Arc<dyn ObjectStore>) -> Self {
        let db = Arc::new(TestDatabase::new(backend).await);
        let store = EventStore::connect(db.url(), 5).await.unwrap();
        let parts = Parts {
            reads: Reads::primary_only(store.db().clone()),
            db: Some(db),
            objects,
            objects_dir: None,
            fanout: None,
        };
        let mut app = Self::start(backend, store, parts).await;
        app.start_projectors();
        app
    }

    /// Starts CMS on a fresh database of `backend`; nothing runs the projections.
    pub async fn spawn_without_projectors(backend: Backend) -> Self {
        let db = Arc::new(TestDatabase::new(backend).await);
        Self::spawn_on(db, None).await
    }

    /// Starts CMS on `db` (which other instances may share), with the fan-out when `fanout` is
    /// given; nothing runs the projections.
    pub async fn spawn_on(
        db: Arc<TestDatabase>,
        fanout: Option<cms_api::fanout::FanoutOptions>,
    ) -> Self {
        let backend = db.backend();
        let store = EventStore::connect(db.url(), 5).await.unwrap();
        let (objects, dir) = temp_objects();
        let parts = Parts {
            reads: Reads::primary_only(store.db().clone()),
            db: Some(db),
            objects,
            objects_dir: Some(dir),
            fanout,
        };
        Self::start(backend, store, parts).await
    }

    /// Starts CMS, with its projectors, on the PostgreSQL primary at `primary` reading from the
    /// replicas at `replicas`. The returned [`Reads`] is the one the routes use.
    pub async fn spawn_with_replicas(primary: &str, replicas: &[String]) -> (Self, Arc<Reads>) {
        let store = EventStore::connect(primary, 5).await.unwrap();
        let urls: Vec<_> = replicas
            .iter()
            .map(|u| cms_api::secret::Secret::new(u.clone()))
            .collect();
        let (objects, dir) = temp_objects();
        let parts = Parts {
            reads: Reads::with_replicas(store.db().clone(), &urls, 5).unwrap(),
            db: None,
            objects,
            objects_dir: Some(dir),
            fanout: None,
        };
        let mut app = Self::start(Backend::Postgres, store, parts).await;
        app.start_projectors();
        let reads = app.reads.clone();
        (app, reads)
    }

    /// Starts the projectors `cms serve` would run.
    pub fn start_projectors(&mut self) {
        let db = self.store.db().clone();
        let config = cms_projections::runner::RunnerConfig {
            batch_size: 500,
            poll_interval: Duration::from_millis(20),
        };
        self.projectors = Some(cms_projections::runner::spawn(&db, config));
    }

    async fn start(backend: Backend, store: EventStore, parts: Parts) -> Self {
        let verifier = JwtVerifier::new(
            VerifyingKeys::hs256(SECRET.to_vec()).unwrap(),
            ISSUER,
            AUDIENCE,
            Duration::from_secs(5),
        );
        // The same wiring as `cms serve`, with the test's own parts.
        let service = Service::start(startup::Parts {
            store: store.clone(),
            verifier,
            audit_signer: Some(audit_signer()),
            reads: parts.reads,
            objects: parts.objects.clone(),
            fanout: parts.fanout,
            limits: Limits {
                body_bytes: BODY_LIMIT,
                ..Limits::default()
            },
        })
        .await
        .unwrap();
        let router = service.router();
        let reads = service.state.reads.clone();
        let fanout = service.fanout;
        // Fan-out apps get a small, fixed socket send buffer (accepted sockets inherit it), so a
        // WebSocket client that stops reading fills it after a few events instead of megabytes.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if fanout.is_some() {
            socket.set_send_buffer_size(64 * 1024).unwrap();
        }
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(1024).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base,
            client: reqwest::Client::new(),
            store,
            backend,
            minter: TokenMinter::hs256(SECRET, ISSUER, AUDIENCE).unwrap(),
            _db: parts.db,
            reads,
            seen: std::sync::atomic::AtomicI64::new(0),
            fanout,
            server,
            projectors: None,
            objects: parts.objects,
            _objects_dir: parts.objects_dir,
        }
    }

    /// A valid token for `sub` acting as `role` in `hostels`.
    pub fn token(&self, role: Role, sub: &str, hostels: &[&str]) -> String {
        self.minter
            .mint(&TokenSpec {
                sub: sub.into(),
                role,
                hostels: hostels.iter().map(|h| (*h).to_owned()).collect(),
                name: None,
                ttl: Duration::from_secs(600),
            })
            .unwrap()
    }

    /// A valid token that expires after `ttl`.
    pub fn token_with_ttl(&self, role: Role, sub: &str, hostels: &[&str], ttl: Duration) -> String {
        self.minter
            .mint(&TokenSpec {
                sub: sub.into(),
                role,
                hostels: hostels.iter().map(|h| (*h).to_owned()).collect(),
                name: None,
                ttl,
            })
            .unwrap()
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin, "admin-1", &["*"])
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if let Some(position) = body["position"].as_i64() {
            self.seen
                .fetch_max(position, std::sync::atomic::Ordering::Relaxed);
        }
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.base);
        self.send(self.client.post(url).bearer_auth(token).json(&body))
            .await
    }

    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.base);
        let request = self
            .client
            .post(url)
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        self.send(request.json(&body)).await
    }

    /// A GET that carries `Min-Position`: the highest position any earlier answer reported, so it
    /// reflects every command this test sent (read-your-writes, as a client does it).
    pub async fn get_fresh(&self, path: &str, token: &str) -> Answer {
        let url = format!("{}{path}", self.base);
        let seen = self.seen.load(std::sync::atomic::Ordering::Relaxed);
        self.send(
            self.client
                .get(url)
                .bearer_auth(token)
                .header("Min-Position", seen),
        )
        .await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        let url = format!("{}{path}", self.base);
        self.send(self.client.get(url).bearer_auth(token)).await
    }

    /// Hostel `north`: wings A and B, rooms like B204, categories plumbing and electrical; warden
    /// `warden-w`, staff `staff-p` (plumbing) and `staff-e` (electrical); self-assignment allowed.
    pub async fn seed_hostel(&self) {
        let admin = self.admin();
        let registered = self
            .post(
                "/v1/hostels",
                &admin,
                json!({
                    "id": HOSTEL, "name": "North", "wings": ["A", "B"], "room_pattern": "[AB][0-9]{3}",
                    "categories": [{"id": "plumbing", "name": "Plumbing"}, {"id": "electrical", "name": "Electrical"}]
                }),
            )
            .await;
        assert_eq!(
            registered.status,
            StatusCode::CREATED,
            "{:?}",
            registered.body
        );
        for (id, skills, role) in [
            ("warden-w", vec!["plumbing", "electrical"], "warden"),
            ("staff-p", vec!["plumbing"], "staff"),
            ("staff-e", vec!["electrical"], "staff"),
        ] {
            let added = self
                .post(
                    &format!("/v1/hostels/{HOSTEL}/staff"),
                    &admin,
                    json!({ "id": id, "name": id, "skills": skills, "role": role }),
                )
                .await;
            assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
        }
        let policy = self
            .send(
                self.client
                    .put(format!("{}/v1/hostels/{HOSTEL}/policy", self.base))
                    .bearer_auth(&admin)
                    .json(&json!({ "self_assignment_allowed": true, "dispute_window_days": 7 })),
            )
            .await;
        assert_eq!(policy.status, StatusCode::OK, "{:?}", policy.body);
    }

    /// Files a plumbing complaint in B204 as `resident`; returns its id.
    pub async fn file(&self, resident: &str) -> String {
        let token = self.token(Role::Resident, resident, &[HOSTEL]);
        let answer = self.post("/v1/complaints", &token, file_body()).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
        answer.body["complaint_id"].as_str().unwrap().to_owned()
    }

    /// The log's head.
    pub async fn head(&self) -> i64 {
        self.store.head().await.unwrap()
    }
}

/// The audit key of every test app (a fixed seed).
pub fn audit_signer() -> AuditSigner {
    AuditSigner::from_seed([42; 32])
}

/// A valid FileComplaint body.
pub fn file_body() -> Value {
    json!({
        "hostel": HOSTEL, "wing": "B", "room": "B204", "category": "plumbing", "severity": "high",
        "title": "Leaking tap", "description": "The cold tap drips all night long."
    })
}

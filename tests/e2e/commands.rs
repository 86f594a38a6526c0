//! Every HTTP command, issued by each actor that may and each that may not issue it, on PostgreSQL and
//! on SQLite. This file owns the kit the tables share: the cast of actors ([`Who`]), the complaint
//! commands ([`Cmd`]), the statuses a complaint is driven to before a row runs ([`Stage`]) and the
//! checks every row makes ([`check`]): an accepted command answers 2xx with its `status`, a `position`
//! equal to the `Consistency-Token` header, and the events it names are in the log and visible through
//! GET; a refused one answers its status and stable code and writes nothing (the log's head stays put).
//!
//! The tables are laid out like the command families (the names the domain, the routes and the
//! OpenAPI tags use): `filing` (file, triage, withdraw), `work` (assign, start, hold, resume,
//! resolve), `feedback` (confirm, dispute, rate), `closing` (close, reject), `comments` (comment) and
//! `hostels` (hostel administration), plus `reads` (who sees a complaint, and the 404 every command
//! answers out of scope). The `photos` family (attach, thumbnails) is tested in `crate::photos`.
//! `journey` follows one complaint through its whole life; `checks` runs the rows.
//!
//! Each table runs on one app per backend; each row gets a fresh complaint (or hostel), so rows never
//! depend on each other. A table reports every mismatching row at once, not just the first.

use cms_domain::actor::Role;
use cms_tests::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{Answer, TestApp, HOSTEL};

mod checks;
mod closing;
mod comments;
mod feedback;
mod filing;
mod hostels;
mod journey;
mod reads;
mod work;

pub use checks::{check_refused, check_written, run_table};

/// The hostel whose warden and staff must see nothing of [`HOSTEL`].
pub const OTHER_HOSTEL: &str = "south";

/// Who sends a request. Everyone but the admin, the auditor and the two foreigners acts in one home
/// hostel (`north` for complaints; a fresh hostel per row for hostel administration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The resident who filed the complaint.
    Reporter,
    /// A resident of the same hostel who did not file it.
    OtherResident,
    /// `staff-p`: staff with the plumbing skill the complaint needs.
    SkilledStaff,
    /// `staff-e`: staff of the hostel, electrical only.
    UnskilledStaff,
    /// `warden-w`: the hostel's warden.
    Warden,
    Admin,
    Auditor,
    /// A machine caller scoped to the hostel.
    Service,
    /// The warden of [`OTHER_HOSTEL`].
    ForeignWarden,
    /// Plumbing staff of [`OTHER_HOSTEL`].
    ForeignStaff,
}

impl Who {
    pub fn id(self) -> &'static str {
        match self {
            Who::Reporter => "res-r",
            Who::OtherResident => "res-o",
            Who::SkilledStaff => "staff-p",
            Who::UnskilledStaff => "staff-e",
            Who::Warden => "warden-w",
            Who::Admin => "admin-1",
            Who::Auditor => "auditor-1",
            Who::Service => "bot-1",
            Who::ForeignWarden => "warden-s",
            Who::ForeignStaff => "staff-s",
        }
    }

    pub fn role(self) -> Role {
        match self {
            Who::Reporter | Who::OtherResident => Role::Resident,
            Who::SkilledStaff | Who::UnskilledStaff | Who::ForeignStaff => Role::Staff,
            Who::Warden | Who::ForeignWarden => Role::Warden,
            Who::Admin => Role::Admin,
            Who::Auditor => Role::Auditor,
            Who::Service => Role::Service,
        }
    }

    /// A token for this actor, whose home hostel is `home`.
    pub fn token_in(self, app: &TestApp, home: &str) -> String {
        let hostels = match self {
            Who::Admin | Who::Auditor => vec!["*"],
            Who::ForeignWarden | Who::ForeignStaff => vec![OTHER_HOSTEL],
            Who::Reporter
            | Who::OtherResident
            | Who::SkilledStaff
            | Who::UnskilledStaff
            | Who::Warden
            | Who::Service => vec![home],
        };
        app.token(self.role(), self.id(), &hostels)
    }

    /// A token for this actor, at home in [`HOSTEL`].
    pub fn token(self, app: &TestApp) -> String {
        self.token_in(app, HOSTEL)
    }
}

/// A command on an existing complaint, with a valid body.
#[derive(Debug, Clone, Copy)]
pub enum Cmd {
    Triage,
    Assign(&'static str),
    Start,
    Hold,
    Resume,
    Comment,
    InternalComment,
    Resolve,
    Confirm,
    Dispute,
    Close,
    Reject,
    Withdraw,
    Rate(u8),
}

impl Cmd {
    /// Every command, each once (for the visibility checks).
    pub const ALL: [Cmd; 14] = [
        Cmd::Triage,
        Cmd::Assign("staff-p"),
        Cmd::Start,
        Cmd::Hold,
        Cmd::Resume,
        Cmd::Comment,
        Cmd::InternalComment,
        Cmd::Resolve,
        Cmd::Confirm,
        Cmd::Dispute,
        Cmd::Close,
        Cmd::Reject,
        Cmd::Withdraw,
        Cmd::Rate(5),
    ];

    fn route(self) -> &'static str {
        match self {
            Cmd::Triage => "triage",
            Cmd::Assign(_) => "assign",
            Cmd::Start => "start",
            Cmd::Hold => "hold",
            Cmd::Resume => "resume",
            Cmd::Comment | Cmd::InternalComment => "comments",
            Cmd::Resolve => "resolve",
            Cmd::Confirm => "confirm",
            Cmd::Dispute => "dispute",
            Cmd::Close => "close",
            Cmd::Reject => "reject",
            Cmd::Withdraw => "withdraw",
            Cmd::Rate(_) => "rating",
        }
    }

    fn body(self) -> Value {
        match self {
            Cmd::Triage => json!({ "priority": "P2" }),
            Cmd::Assign(assignee) => json!({ "assignee": assignee }),
            Cmd::Start | Cmd::Resume | Cmd::Confirm => json!({}),
            Cmd::Hold => json!({ "reason": "waiting for a replacement valve" }),
            Cmd::Comment => json!({ "body": "Any news?", "visibility": "public" }),
            Cmd::InternalComment => json!({ "body": "Valve on order.", "visibility": "internal" }),
            Cmd::Resolve => json!({ "note": "Replaced the washer." }),
            Cmd::Dispute => json!({ "reason": "Still dripping the next morning." }),
            Cmd::Close => json!({ "reason": "duplicate of another complaint" }),
            Cmd::Reject => json!({ "reason": "not a maintenance issue" }),
            Cmd::Withdraw => json!({ "reason": "fixed it myself" }),
            Cmd::Rate(stars) => json!({ "stars": stars }),
        }
    }

    /// The stored names of the events an accepted command appends, in order.
    fn events(self) -> &'static [&'static str] {
        match self {
            Cmd::Triage => &["ComplaintTriaged"],
            Cmd::Assign(_) => &["ComplaintAssigned"],
            Cmd::Start => &["WorkStarted"],
            Cmd::Hold => &["ComplaintPutOnHold"],
            Cmd::Resume => &["WorkResumed"],
            Cmd::Comment | Cmd::InternalComment => &["CommentAdded"],
            Cmd::Resolve => &["ComplaintResolved"],
            Cmd::Confirm => &["ResolutionConfirmed", "ComplaintClosed"],
            Cmd::Dispute => &["ResolutionDisputed", "ComplaintReopened"],
            Cmd::Close => &["ComplaintClosed"],
            Cmd::Reject => &["ComplaintRejected"],
            Cmd::Withdraw => &["ComplaintWithdrawn"],
            Cmd::Rate(_) => &["ResolutionRated"],
        }
    }

    /// Sends this command on complaint `id` as `who`.
    pub async fn send(self, app: &TestApp, who: Who, id: &str) -> Answer {
        let path = format!("/v1/complaints/{id}/{}", self.route());
        app.post(&path, &who.token(app), self.body()).await
    }
}

/// Where a complaint is before a row's command: every status, reached the usual way (the warden
/// triages and assigns `staff-p`, who starts, holds and resolves; the reporter confirms or disputes).
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    Filed,
    Triaged,
    Assigned,
    InProgress,
    OnHold,
    Resolved,
    Reopened,
    Closed,
    /// Closed after a confirmed resolution, and rated.
    Rated,
    Rejected,
    Withdrawn,
}

impl Stage {
    /// The stage before this one and the step from there to here.
    fn last_step(self) -> Option<(Stage, Who, Cmd)> {
        let step = match self {
            Stage::Filed => return None,
            Stage::Triaged => (Stage::Filed, Who::Warden, Cmd::Triage),
            Stage::Assigned => (Stage::Triaged, Who::Warden, Cmd::Assign("staff-p")),
            Stage::InProgress => (Stage::Assigned, Who::SkilledStaff, Cmd::Start),
            Stage::OnHold => (Stage::InProgress, Who::SkilledStaff, Cmd::Hold),
            Stage::Resolved => (Stage::InProgress, Who::SkilledStaff, Cmd::Resolve),
            Stage::Reopened => (Stage::Resolved, Who::Reporter, Cmd::Dispute),
            Stage::Closed => (Stage::Resolved, Who::Reporter, Cmd::Confirm),
            Stage::Rated => (Stage::Closed, Who::Reporter, Cmd::Rate(4)),
            Stage::Rejected => (Stage::Filed, Who::Warden, Cmd::Reject),
            Stage::Withdrawn => (Stage::Filed, Who::Reporter, Cmd::Withdraw),
        };
        Some(step)
    }

    /// Files a complaint as [`Who::Reporter`] and drives it to this stage; returns its id.
    pub async fn drive(self, app: &TestApp) -> String {
        let mut steps = Vec::new();
        let mut stage = self;
        while let Some((before, who, cmd)) = stage.last_step() {
            steps.push((who, cmd));
            stage = before;
        }
        let id = app.file(Who::Reporter.id()).await;
        for (who, cmd) in steps.into_iter().rev() {
            let answer = cmd.send(app, who, &id).await;
            assert!(
                answer.status.is_success(),
                "driving to {self:?}: {cmd:?} by {who:?}: {answer:?}"
            );
        }
        id
    }
}

/// What a row expects.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// Accepted; the complaint is then in this status.
    Done(&'static str),
    /// Refused with this status and stable code.
    Refused(StatusCode, &'static str),
}

pub const NOT_PERMITTED: Expect = Expect::Refused(StatusCode::FORBIDDEN, "action_not_permitted");
pub const NOT_ASSIGNEE: Expect = Expect::Refused(StatusCode::FORBIDDEN, "not_assignee");
pub const INVALID_TRANSITION: Expect = Expect::Refused(StatusCode::CONFLICT, "invalid_transition");
pub const COMPLAINT_NOT_FOUND: Expect =
    Expect::Refused(StatusCode::NOT_FOUND, "complaint_not_found");
pub const HOSTEL_NOT_FOUND: Expect = Expect::Refused(StatusCode::NOT_FOUND, "hostel_not_found");

/// Starts CMS on `backend` with hostel `north` (see `seed_hostel`) and hostel `south`, whose warden
/// `warden-s` and plumber `staff-s` are the foreigners.
pub async fn spawn_with_two_hostels(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    app.seed_hostel().await;
    register_hostel(&app, OTHER_HOSTEL).await;
    app
}

/// Registers `id` (wings A and B, categories plumbing and electrical). Its staff are `warden-s` and
/// `staff-s` for [`OTHER_HOSTEL`], otherwise `warden-w`, `staff-p` and `staff-e` as in `north`.
/// Self-assignment stays off.
pub async fn register_hostel(app: &TestApp, id: &str) {
    let admin = app.admin();
    let body = json!({
        "id": id, "name": format!("Hostel {id}"), "wings": ["A", "B"], "room_pattern": "[AB][0-9]{3}",
        "categories": [{"id": "plumbing", "name": "Plumbing"}, {"id": "electrical", "name": "Electrical"}]
    });
    let registered = app.post("/v1/hostels", &admin, body).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{:?}",
        registered.body
    );
    let staff: &[(&str, &str, &str)] = if id == OTHER_HOSTEL {
        &[
            ("warden-s", "plumbing", "warden"),
            ("staff-s", "plumbing", "staff"),
        ]
    } else {
        &[
            ("warden-w", "plumbing", "warden"),
            ("staff-p", "plumbing", "staff"),
            ("staff-e", "electrical", "staff"),
        ]
    };
    for &(member, skill, role) in staff {
        let body = json!({ "id": member, "name": member, "skills": [skill], "role": role });
        let added = app
            .post(&format!("/v1/hostels/{id}/staff"), &admin, body)
            .await;
        assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    }
}

/// Sends any request with a JSON body (`Value::Null`: none).
pub async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> Answer {
    let mut builder = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if !body.is_null() {
        builder = builder.json(&body);
    }
    app.send(builder).await
}

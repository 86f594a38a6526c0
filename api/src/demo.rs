//! `cms serve --demo`: one hostel with wings, categories and staff, and complaints in several states,
//! written through the executor like any other command, so a newcomer sees a working system at once.
//! Seeds only an empty log; a second start leaves the data alone.

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::{DateTime, Utc};
use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::complaint::{
    Complaint, ComplaintAction, ComplaintCommand, Priority, Severity, Visibility,
};
use cms_domain::hostel::{
    Category, HostelCommand, HostelFacts, HostelPolicy, StaffMember, StaffRole,
};
use cms_domain::ids::{CategoryId, CommentId, ComplaintId, HostelId, UserId, WingId};
use uuid::Uuid;

use crate::admin::{cli_actor, system_context};
use crate::commands::executor::Executor;
use crate::commands::{complaints, hostels};

/// The demo complaints: a name, its fixed id, and the status the seed leaves it in.
pub const COMPLAINTS: [(&str, &str); 4] = [
    ("light", "filed"),
    ("tap", "in_progress"),
    ("chair", "resolved"),
    ("fan", "closed"),
];

/// The fixed id of demo complaint `name` (UUIDv5), so docs and scripts can name it.
pub fn complaint_id(name: &str) -> ComplaintId {
    ComplaintId::new(Uuid::new_v5(&DEMO_NAMESPACE, name.as_bytes()))
}

const DEMO_NAMESPACE: Uuid = Uuid::from_u128(0x3c9e_0d7a_58f4_4b1e_8e2a_d3f1_6b0c_9a45);

/// The demo hostel.
pub const HOSTEL: &str = "north-block";

/// The demo users: role, subject.
pub const USERS: [(&str, &str); 4] = [
    ("warden", "warden-meera"),
    ("staff", "staff-ravi"),
    ("staff", "staff-anita"),
    ("resident", "res-asha"),
];

fn user(id: &str) -> anyhow::Result<UserId> {
    Ok(UserId::parse(id)?)
}

fn actor(id: &str, role: Role) -> anyhow::Result<Actor> {
    Ok(Actor {
        id: user(id)?,
        role,
        scope: HostelScope::one(HostelId::parse(HOSTEL)?),
    })
}

fn categories(ids: &[&str]) -> anyhow::Result<BTreeSet<CategoryId>> {
    ids.iter().map(|c| Ok(CategoryId::parse(c)?)).collect()
}

/// Seeds the demo data into an empty event log.
///
/// # Errors
/// A storage failure or a refused command (a bug in the seed).
pub async fn seed(executor: &Executor) -> anyhow::Result<()> {
    if executor.store().head().await? > 0 {
        tracing::info!("demo: the event log is not empty; nothing seeded");
        return Ok(());
    }
    let hostel = HostelId::parse(HOSTEL)?;
    let admin = cli_actor()?;
    let at = Utc::now();
    let category = |id: &str, name: &str| -> anyhow::Result<Category> {
        Ok(Category {
            id: CategoryId::parse(id)?,
            name: name.to_owned(),
        })
    };
    let mut hostel_commands = vec![
        HostelCommand::RegisterHostel {
            by: admin.clone(),
            at,
            id: hostel.clone(),
            name: "North Block".into(),
            wings: vec![WingId::parse("A")?, WingId::parse("B")?],
            room_pattern: "[AB][0-9]{3}".into(),
            categories: vec![
                category("plumbing", "Plumbing")?,
                category("electrical", "Electrical")?,
                category("furniture", "Furniture")?,
                category("cleaning", "Cleaning")?,
            ],
        },
        HostelCommand::SetPolicy {
            by: admin.clone(),
            at,
            policy: HostelPolicy {
                self_assignment_allowed: true,
                dispute_window_days: 7,
            },
        },
    ];
    for (id, name, skills, role) in [
        (
            "warden-meera",
            "Meera Iyer",
            &["plumbing", "electrical", "furniture", "cleaning"][..],
            StaffRole::Warden,
        ),
        (
            "staff-ravi",
            "Ravi Kumar",
            &["plumbing", "electrical"][..],
            StaffRole::Staff,
        ),
        (
            "staff-anita",
            "Anita Das",
            &["furniture", "cleaning"][..],
            StaffRole::Staff,
        ),
    ] {
        hostel_commands.push(HostelCommand::AddStaffMember {
            by: admin.clone(),
            at,
            member: StaffMember {
                id: user(id)?,
                name: name.into(),
                skills: categories(skills)?,
                role,
            },
        });
    }
    for command in hostel_commands {
        let ctx = system_context(&admin, "DemoSeed", Some(&hostel));
        hostels::execute(executor, &ctx, &hostel, 200, command)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {}", e.code(), e.message()))?;
    }
    let facts = complaints::hostel_facts(executor, &hostel)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let seeder = Seeder {
        executor,
        facts,
        at,
    };

    let asha = actor("res-asha", Role::Resident)?;
    let bilal = actor("res-bilal", Role::Resident)?;
    let warden = actor("warden-meera", Role::Warden)?;
    let ravi = actor("staff-ravi", Role::Staff)?;
    let anita = actor("staff-anita", Role::Staff)?;

    // 1. Just filed.
    seeder
        .file(
            "light",
            &bilal,
            "A112",
            "electrical",
            Severity::Medium,
            "Corridor light flickers",
            "The tube light outside A112 flickers all evening and buzzes loudly.",
        )
        .await?;
    // 2. In progress: triaged, assigned, started, with a comment each side.
    let tap = seeder
        .file(
            "tap",
            &asha,
            "B204",
            "plumbing",
            Severity::High,
            "Leaking tap in B204",
            "The cold tap in the bathroom drips all night and the floor stays wet.",
        )
        .await?;
    seeder
        .act(
            &warden,
            tap,
            ComplaintAction::Triage {
                priority: Priority::P2,
                category: None,
            },
        )
        .await?;
    seeder
        .act(
            &warden,
            tap,
            ComplaintAction::Assign {
                assignee: ravi.id.clone(),
            },
        )
        .await?;
    seeder.act(&ravi, tap, ComplaintAction::StartWork).await?;
    seeder
        .act(
            &ravi,
            tap,
            ComplaintAction::AddComment {
                comment_id: CommentId::new(Uuid::now_v7()),
                body: "Washer is worn; replacing it this afternoon.".into(),
                visibility: Visibility::Public,
            },
        )
        .await?;
    seeder
        .act(
            &ravi,
            tap,
            ComplaintAction::AddComment {
                comment_id: CommentId::new(Uuid::now_v7()),
                body: "Need a 15 mm washer from stores.".into(),
                visibility: Visibility::Internal,
            },
        )
        .await?;
    // 3. Resolved, waiting for the reporter.
    let chair = seeder
        .file(
            "chair",
            &asha,
            "B204",
            "furniture",
            Severity::Low,
            "Broken chair leg",
            "The desk chair's back left leg has cracked and the chair wobbles.",
        )
        .await?;
    seeder
        .act(
            &warden,
            chair,
            ComplaintAction::Triage {
                priority: Priority::P4,
                category: None,
            },
        )
        .await?;
    seeder
        .act(
            &anita,
            chair,
            ComplaintAction::Assign {
                assignee: anita.id.clone(),
            },
        )
        .await?;
    seeder
        .act(&anita, chair, ComplaintAction::StartWork)
        .await?;
    seeder
        .act(
            &anita,
            chair,
            ComplaintAction::Resolve {
                note: "Replaced the chair.".into(),
                after_photos: vec![],
            },
        )
        .await?;
    // 4. Closed: confirmed and rated.
    let fan = seeder
        .file(
            "fan",
            &bilal,
            "A112",
            "electrical",
            Severity::Medium,
            "Ceiling fan not working",
            "The ceiling fan does not start at any speed since yesterday.",
        )
        .await?;
    seeder
        .act(
            &warden,
            fan,
            ComplaintAction::Triage {
                priority: Priority::P3,
                category: None,
            },
        )
        .await?;
    seeder
        .act(
            &warden,
            fan,
            ComplaintAction::Assign {
                assignee: ravi.id.clone(),
            },
        )
        .await?;
    seeder.act(&ravi, fan, ComplaintAction::StartWork).await?;
    seeder
        .act(
            &ravi,
            fan,
            ComplaintAction::Resolve {
                note: "Replaced the capacitor.".into(),
                after_photos: vec![],
            },
        )
        .await?;
    seeder
        .act(&bilal, fan, ComplaintAction::ConfirmResolution)
        .await?;
    seeder
        .act(
            &bilal,
            fan,
            ComplaintAction::RateResolution {
                stars: 5,
                comment: Some("Quick fix, thanks!".into()),
            },
        )
        .await?;
    tracing::info!("demo: seeded hostel {HOSTEL} with 4 complaints");
    Ok(())
}

struct Seeder<'a> {
    executor: &'a Executor,
    facts: HostelFacts,
    at: DateTime<Utc>,
}

impl Seeder<'_> {
    #[allow(clippy::too_many_arguments)]
    async fn file(
        &self,
        name: &str,
        by: &Actor,
        room: &str,
        category: &str,
        severity: Severity,
        title: &str,
        description: &str,
    ) -> anyhow::Result<ComplaintId> {
        let id = complaint_id(name);
        self.act(
            by,
            id,
            ComplaintAction::File {
                id,
                reporter: by.id.clone(),
                wing: Some(WingId::parse(&room[..1])?),
                room: room.into(),
                category: CategoryId::parse(category)?,
                severity,
                title: title.into(),
                description: description.into(),
            },
        )
        .await?;
        Ok(id)
    }

    async fn act(
        &self,
        by: &Actor,
        id: ComplaintId,
        action: ComplaintAction,
    ) -> anyhow::Result<()> {
        let ctx = system_context(by, "DemoSeed", Some(&self.facts.id));
        let command = ComplaintCommand {
            by: by.clone(),
            at: self.at,
            hostel: self.facts.clone(),
            action,
        };
        self.executor
            .execute::<Complaint, _>(
                &ctx,
                &id.to_string(),
                None,
                200,
                command,
                complaints::render,
            )
            .await
            .with_context(|| format!("demo command on complaint {id}"))?;
        Ok(())
    }
}

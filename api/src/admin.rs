//! `cms hostel …`: hostel administration from the command line, through the same executor and rules
//! as the HTTP routes, acting as the built-in `cms-cli` admin.

use chrono::Utc;
use clap::Subcommand;
use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::hostel::{Category, Hostel, HostelCommand, HostelPolicy, StaffMember, StaffRole};
use cms_domain::ids::{CategoryId, HostelId, UserId, WingId};
use serde_json::json;
use uuid::Uuid;

use crate::commands::executor::{request_hash, CommandContext, Executor};
use crate::commands::hostels;

/// Hostel administration subcommands.
#[derive(Debug, Subcommand)]
pub enum HostelAdmin {
    /// Register a hostel.
    Register {
        /// Slug, e.g. north-block.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// A wing (repeat for several).
        #[arg(long = "wing")]
        wings: Vec<String>,
        /// Regular expression a room must match as a whole, e.g. '[AB][0-9]{3}'.
        #[arg(long)]
        room_pattern: String,
        /// A category as id:Name (repeat for several).
        #[arg(long = "category", required = true)]
        categories: Vec<String>,
    },
    /// Add a category as id:Name.
    AddCategory {
        #[arg(long)]
        hostel: String,
        #[arg(long)]
        category: String,
    },
    /// Add a staff member.
    AddStaff {
        #[arg(long)]
        hostel: String,
        /// The member's user id (token subject).
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// A category the member can work on (repeat for several).
        #[arg(long = "skill")]
        skills: Vec<String>,
        /// staff or warden.
        #[arg(long, default_value = "staff")]
        role: String,
    },
    /// Remove a staff member.
    RemoveStaff {
        #[arg(long)]
        hostel: String,
        #[arg(long)]
        id: String,
    },
    /// Set the policy.
    SetPolicy {
        #[arg(long)]
        hostel: String,
        #[arg(long)]
        self_assignment: bool,
        #[arg(long, default_value_t = 7)]
        dispute_window_days: u32,
    },
    /// List registered hostels.
    List,
}

/// The actor the command line acts as.
pub fn cli_actor() -> anyhow::Result<Actor> {
    Ok(Actor {
        id: UserId::parse("cms-cli")?,
        role: Role::Admin,
        scope: HostelScope::All,
    })
}

/// A context for a command issued by the system itself (CLI, demo seed).
pub fn system_context(
    actor: &Actor,
    command: &'static str,
    hostel: Option<&HostelId>,
) -> CommandContext {
    CommandContext {
        actor: actor.clone(),
        command,
        idempotency_key: None,
        request_hash: request_hash(command, "", &json!(null)),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        traceparent: None,
        hostel_id: hostel.map(ToString::to_string),
    }
}

fn category(spec: &str) -> anyhow::Result<Category> {
    let (id, name) = spec
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("category {spec:?} must be id:Name"))?;
    Ok(Category {
        id: CategoryId::parse(id)?,
        name: name.to_owned(),
    })
}

/// Runs one `cms hostel` subcommand and prints the result.
///
/// # Errors
/// Invalid arguments, the domain's refusal, or a storage failure.
pub async fn run(executor: &Executor, command: HostelAdmin) -> anyhow::Result<()> {
    let actor = cli_actor()?;
    let at = Utc::now();
    let (hostel, name, command) = match command {
        HostelAdmin::List => {
            for id in executor
                .store()
                .aggregate_ids(cms_domain::hostel::AGGREGATE_TYPE)
                .await?
            {
                let hostel = executor.load::<Hostel>(&id).await?;
                println!("{id}\t{}", hostel.state.name().unwrap_or(""));
            }
            return Ok(());
        }
        HostelAdmin::Register {
            id,
            name,
            wings,
            room_pattern,
            categories,
        } => {
            let id = HostelId::parse(&id)?;
            let command = HostelCommand::RegisterHostel {
                by: actor.clone(),
                at,
                id: id.clone(),
                name,
                wings: wings
                    .iter()
                    .map(|w| WingId::parse(w))
                    .collect::<Result<_, _>>()?,
                room_pattern,
                categories: categories
                    .iter()
                    .map(|c| category(c))
                    .collect::<Result<_, _>>()?,
            };
            (id, "RegisterHostel", command)
        }
        HostelAdmin::AddCategory {
            hostel,
            category: spec,
        } => {
            let command = HostelCommand::AddCategory {
                by: actor.clone(),
                at,
                category: category(&spec)?,
            };
            (HostelId::parse(&hostel)?, "AddCategory", command)
        }
        HostelAdmin::AddStaff {
            hostel,
            id,
            name,
            skills,
            role,
        } => {
            let role = match role.as_str() {
                "staff" => StaffRole::Staff,
                "warden" => StaffRole::Warden,
                other => anyhow::bail!("role {other:?} must be staff or warden"),
            };
            let member = StaffMember {
                id: UserId::parse(&id)?,
                name,
                skills: skills
                    .iter()
                    .map(|s| CategoryId::parse(s))
                    .collect::<Result<_, _>>()?,
                role,
            };
            let command = HostelCommand::AddStaffMember {
                by: actor.clone(),
                at,
                member,
            };
            (HostelId::parse(&hostel)?, "AddStaffMember", command)
        }
        HostelAdmin::RemoveStaff { hostel, id } => {
            let command = HostelCommand::RemoveStaffMember {
                by: actor.clone(),
                at,
                id: UserId::parse(&id)?,
            };
            (HostelId::parse(&hostel)?, "RemoveStaffMember", command)
        }
        HostelAdmin::SetPolicy {
            hostel,
            self_assignment,
            dispute_window_days,
        } => {
            let policy = HostelPolicy {
                self_assignment_allowed: self_assignment,
                dispute_window_days,
            };
            let command = HostelCommand::SetPolicy {
                by: actor.clone(),
                at,
                policy,
            };
            (HostelId::parse(&hostel)?, "SetPolicy", command)
        }
    };
    let ctx = system_context(&actor, name, Some(&hostel));
    let outcome = hostels::execute(executor, &ctx, &hostel, 200, command)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.code(), e.message()))?;
    println!("{name} {hostel}: ok (position {})", outcome.position);
    Ok(())
}

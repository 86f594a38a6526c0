//! `seed`: fills a PostgreSQL event store with realistic complaint histories in bulk, rebuilds every
//! projection from the log (events/s), and times typical listing queries (p50/p99).
//!
//! The histories are decided by the real domain (`Complaint::decide` on the demo hostel's facts, the
//! same decisions the API makes), so every event is one the service could have written; only the
//! write path is bypassed: rows go in with multi-row `INSERT .. SELECT FROM UNNEST` in batches, and the
//! log's own trigger numbers them (gap-free, as appends would). Complaints are spread over a year, six
//! lifecycle stages (filed, triaged, assigned, in progress, resolved, closed with a rating), four
//! categories, four severities and 5,000 residents.
//!
//! ```text
//! cargo run --release --locked -p cms-benches --bin seed -- \
//!     --database-url postgres://postgres@127.0.0.1:5432/cms_bench --complaints 100000
//! ```
//! (`bash benches/run-seed.sh N` creates a throw-away database and runs it.)

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use clap::Parser;
use cms_api::commands::executor::Executor;
use cms_api::demo;
use cms_domain::actor::{Actor, HostelScope, Role};
use cms_domain::complaint::{
    Complaint, ComplaintAction, ComplaintCommand, ComplaintEvent, Priority, Severity, Visibility,
};
use cms_domain::hostel::{Hostel, HostelFacts};
use cms_domain::ids::{CategoryId, CommentId, ComplaintId, HostelId, UserId, WingId};
use cms_eventstore::store::EventStore;
use cms_eventstore::Db;
use cms_projections::complaint_list::{self, ListQuery, Sort, Visibility as Seen};
use cms_projections::{runner, Projection};
use cqrs_es::Aggregate;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Seed complaints in bulk, rebuild the projections, time listings")]
struct Args {
    /// PostgreSQL database to fill (it is migrated first; use an empty one).
    #[arg(long, env = "CMS_DATABASE_URL")]
    database_url: String,
    /// Complaints to write.
    #[arg(long, default_value_t = 10_000)]
    complaints: u64,
    /// Events per INSERT.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Queries per listing case.
    #[arg(long, default_value_t = 200)]
    queries: u64,
    /// Events per projector transaction during the rebuild.
    #[arg(long, default_value_t = 1_000)]
    rebuild_batch: i64,
    /// Seed of the random generator (the same seed writes the same complaints).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const RESIDENTS: u64 = 5_000;
const CATEGORIES: [&str; 4] = ["plumbing", "electrical", "furniture", "cleaning"];
const TITLES: [&str; 8] = [
    "Leaking tap",
    "Flickering corridor light",
    "Broken chair",
    "Blocked drain",
    "Fan not working",
    "Window latch broken",
    "No hot water",
    "Socket sparks",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.database_url.starts_with("postgres") {
        bail!("seed writes to PostgreSQL only (a postgres:// URL)");
    }
    let store = EventStore::connect(&args.database_url, 8)
        .await
        .context("connecting")?;
    store.migrate().await.context("migrating")?;
    let executor = Executor::new(store.clone());
    demo::seed(&executor).await?;
    let hostel = HostelId::parse(demo::HOSTEL)?;
    let facts = executor
        .load::<Hostel>(hostel.as_str())
        .await?
        .state
        .facts()
        .context("the demo hostel is missing")?;
    let Db::Postgres(pool) = store.db().clone() else {
        bail!("PostgreSQL expected");
    };

    // 1. Seed.
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut rows = Rows::default();
    let mut written = 0_u64;
    for n in 0..args.complaints {
        history(&facts, &mut rng, n, &mut rows)?;
        if rows.len() >= args.batch {
            written += rows.flush(&pool).await?;
        }
    }
    written += rows.flush(&pool).await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    let seeding = started.elapsed();
    println!(
        "seeded {} complaints, {written} events in {:.1} s ({:.0} events/s)",
        args.complaints,
        seeding.as_secs_f64(),
        rate(written, seeding)
    );

    // 2. Rebuild every projection from 0.
    let db = store.db().clone();
    for projection in Projection::ALL {
        let rebuilt = runner::rebuild(&db, projection, args.rebuild_batch, &mut |_, _| {}).await?;
        println!(
            "rebuild {:<17} {:>9} events in {:>7.1} s = {:>8.0} events/s",
            projection.name(),
            rebuilt.events,
            rebuilt.elapsed.as_secs_f64(),
            rebuilt.rate()
        );
    }
    sqlx::query("ANALYZE").execute(&pool).await?;

    // 3. Listings.
    println!(
        "listing ({} queries each): p50 / p99 / max in ms",
        args.queries
    );
    for (name, query, seen) in cases() {
        let mut histogram = Histogram::<u64>::new(3)?;
        for i in 0..args.queries {
            let seen = match &seen {
                Seen::ReportedBy(_) => Seen::ReportedBy(format!("res-{}", i % RESIDENTS)),
                other => other.clone(),
            };
            let began = Instant::now();
            let page = complaint_list::list(&db, &query, &seen).await?;
            histogram.record(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX))?;
            std::hint::black_box(page);
        }
        println!(
            "  {name:<44} {:>7.2} / {:>7.2} / {:>7.2}",
            ms(histogram.value_at_quantile(0.5)),
            ms(histogram.value_at_quantile(0.99)),
            ms(histogram.max())
        );
    }
    Ok(())
}

/// The listing cases: what staff screens and residents ask most.
fn cases() -> Vec<(&'static str, ListQuery, Seen)> {
    let page = |query: ListQuery| ListQuery { limit: 20, ..query };
    let staff = Seen::Hostels(vec![demo::HOSTEL.to_owned()]);
    vec![
        (
            "staff: hostel, newest first",
            page(ListQuery::default()),
            staff.clone(),
        ),
        (
            "staff: open statuses, by priority",
            page(ListQuery {
                statuses: ["filed", "triaged", "assigned", "in_progress"]
                    .map(str::to_owned)
                    .to_vec(),
                sort: Sort::Priority,
                ..ListQuery::default()
            }),
            staff.clone(),
        ),
        (
            "staff: category + severity",
            page(ListQuery {
                category: Some("plumbing".to_owned()),
                severity: Some("urgent".to_owned()),
                ..ListQuery::default()
            }),
            staff.clone(),
        ),
        (
            "staff: assignee, recently updated",
            page(ListQuery {
                assignee: Some("staff-ravi".to_owned()),
                sort: Sort::UpdatedAt,
                ..ListQuery::default()
            }),
            staff.clone(),
        ),
        (
            "staff: text search \"drain\"",
            page(ListQuery {
                text: Some("drain".to_owned()),
                ..ListQuery::default()
            }),
            staff,
        ),
        (
            "resident: own complaints",
            page(ListQuery::default()),
            Seen::ReportedBy(String::new()),
        ),
        (
            "admin: 100 per page, filed in one month",
            ListQuery {
                filed_from: Some(start() + TimeDelta::days(120)),
                filed_to: Some(start() + TimeDelta::days(150)),
                limit: 100,
                ..ListQuery::default()
            },
            Seen::All,
        ),
    ]
}

/// Events waiting to be inserted, column by column.
#[derive(Default)]
struct Rows {
    ids: Vec<String>,
    sequences: Vec<i64>,
    types: Vec<String>,
    payloads: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
}

impl Rows {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn push(&mut self, id: ComplaintId, sequence: i64, event: &ComplaintEvent, by: &Actor) {
        self.ids.push(id.to_string());
        self.sequences.push(sequence);
        self.types.push(event.stored_name().to_owned());
        self.payloads
            .push(serde_json::to_value(event).unwrap_or_default());
        self.metadata.push(json!({
            "actor_id": by.id, "actor_role": by.role, "command": "Seed",
            "correlation_id": Uuid::now_v7(),
        }));
    }

    /// Inserts the pending rows in one statement (the trigger numbers them) and empties the buffer.
    async fn flush(&mut self, pool: &cms_eventstore::pool::MeteredPgPool) -> anyhow::Result<u64> {
        if self.ids.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata) SELECT 'Complaint', a, s, t, '1', p, m \
             FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::jsonb[], $5::jsonb[]) AS u(a, s, t, p, m)",
        )
        .bind(&self.ids)
        .bind(&self.sequences)
        .bind(&self.types)
        .bind(&self.payloads)
        .bind(&self.metadata)
        .execute(pool)
        .await?;
        *self = Rows::default();
        Ok(done.rows_affected())
    }
}

/// 2026-01-01T00:00:00Z.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn actor(id: &str, role: Role) -> anyhow::Result<Actor> {
    Ok(Actor::new(
        UserId::parse(id)?,
        role,
        HostelScope::one(HostelId::parse(demo::HOSTEL)?),
    ))
}

/// Decides complaint number `n`'s history and queues its events.
fn history(facts: &HostelFacts, rng: &mut StdRng, n: u64, rows: &mut Rows) -> anyhow::Result<()> {
    let id = ComplaintId::new(Uuid::from_u64_pair(0x5eed, n));
    let resident = actor(&format!("res-{}", n % RESIDENTS), Role::Resident)?;
    let warden = actor("warden-meera", Role::Warden)?;
    let category = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
    let assignee = if matches!(category, "plumbing" | "electrical") {
        actor("staff-ravi", Role::Staff)?
    } else {
        actor("staff-anita", Role::Staff)?
    };
    let wing = if rng.gen_bool(0.5) { "A" } else { "B" };
    let severity = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Urgent,
    ][rng.gen_range(0..4)];
    let title = format!("{} {}", TITLES[rng.gen_range(0..TITLES.len())], n);
    // Spread over a year (31,536,000 s), in filing order.
    let filed = start() + TimeDelta::seconds(i64::try_from(n % 1_000_000)? * 31);
    let mut steps: Vec<(Actor, ComplaintAction)> = vec![(
        resident.clone(),
        ComplaintAction::File {
            id,
            reporter: resident.id.clone(),
            wing: Some(WingId::parse(wing)?),
            room: format!("{wing}{:03}", rng.gen_range(100..400)),
            category: CategoryId::parse(category)?,
            severity,
            title,
            description: "Reported by a resident; details in the photos and comments.".to_owned(),
        },
    )];
    let stage = rng.gen_range(0..100);
    if stage >= 20 {
        steps.push((
            warden.clone(),
            ComplaintAction::Triage {
                priority: [Priority::P1, Priority::P2, Priority::P3, Priority::P4]
                    [rng.gen_range(0..4)],
                category: None,
            },
        ));
    }
    if stage >= 35 {
        steps.push((
            warden.clone(),
            ComplaintAction::Assign {
                assignee: assignee.id.clone(),
            },
        ));
    }
    if stage >= 50 {
        steps.push((assignee.clone(), ComplaintAction::StartWork));
        steps.push((
            assignee.clone(),
            ComplaintAction::AddComment {
                comment_id: CommentId::new(Uuid::from_u64_pair(0xc0, n)),
                body: "Parts ordered; back tomorrow.".to_owned(),
                visibility: Visibility::Public,
            },
        ));
    }
    if stage >= 65 {
        steps.push((
            assignee.clone(),
            ComplaintAction::Resolve {
                note: "Fixed and tested.".to_owned(),
                after_photos: Vec::new(),
            },
        ));
    }
    if stage >= 85 {
        steps.push((resident.clone(), ComplaintAction::ConfirmResolution));
        steps.push((
            resident.clone(),
            ComplaintAction::RateResolution {
                stars: rng.gen_range(1..=5),
                comment: None,
            },
        ));
    }
    let mut complaint = Complaint::default();
    let mut sequence = 0_i64;
    for (step, (by, action)) in steps.into_iter().enumerate() {
        let minutes = i64::try_from(step)? * rng.gen_range(20..600);
        let command = ComplaintCommand {
            by: by.clone(),
            at: filed + TimeDelta::minutes(minutes),
            hostel: facts.clone(),
            action,
        };
        let events = complaint
            .decide(command)
            .map_err(|e| anyhow::anyhow!("complaint {n}, step {step}: {e}"))?;
        for event in events {
            sequence += 1;
            rows.push(id, sequence, &event, &by);
            complaint.apply(event);
        }
    }
    Ok(())
}

fn rate(events: u64, elapsed: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let events = events as f64;
    events / elapsed.as_secs_f64().max(1e-9)
}

#[allow(clippy::cast_precision_loss)]
fn ms(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

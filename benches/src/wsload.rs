//! `wsload`: many WebSockets against one CMS instance on this machine, and the delivery latency from
//! commit to socket at a fixed event rate.
//!
//! It registers `--hostels` hostels (`wsl-<n>`) with one complaint each, opens `--sockets` sockets as
//! staff scoped to one hostel each (round robin, so every event has `sockets / hostels` readers),
//! reads the server's resident memory before and after (`--server-pid`), then adds comments at
//! `--rate` per second for `--duration` seconds, spread over the hostels. Every socket records, per
//! event, now minus the event's `at` (its commit time; same machine, same clock) in an HdrHistogram.
//! It prints a Markdown table: sockets, memory per socket, events sent, deliveries expected and
//! received, and latency p50/p90/p99/max.
//!
//! Safety rails: loopback targets only, and hard caps on sockets, rate and duration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use cms_api::auth::{TokenMinter, TokenSpec};
use cms_domain::actor::Role;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;

const MAX_SOCKETS: usize = 20_000;
const MAX_RATE: u64 = 5_000;
const MAX_SECONDS: u64 = 120;

/// Opens many WebSockets and measures commit-to-socket latency at a fixed event rate.
#[derive(Debug, Parser)]
#[command(name = "wsload", version, about)]
struct Args {
    /// Base URL of the CMS API (127.0.0.1, localhost or [::1]).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The server's HS256 secret (to mint tokens).
    #[arg(long, env = "CMS_JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    /// Token issuer.
    #[arg(long, default_value = "cms")]
    jwt_issuer: String,
    /// Token audience.
    #[arg(long, default_value = "cms-api")]
    jwt_audience: String,
    /// Sockets to open.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Hostels (each socket follows one; each event goes to sockets/hostels sockets).
    #[arg(long, default_value_t = 1_000)]
    hostels: usize,
    /// Events per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Commands in flight at most.
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// The server's process id, to read its resident memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Client {
    http: reqwest::Client,
    base: String,
    minter: TokenMinter,
}

impl Client {
    fn token(&self, role: Role, sub: &str, hostels: &[String]) -> anyhow::Result<String> {
        Ok(self.minter.mint(&TokenSpec {
            sub: sub.into(),
            role,
            hostels: hostels.to_vec(),
            name: None,
            ttl: Duration::from_secs(3600),
        })?)
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = reqwest::Url::parse(&args.url).context("--url")?;
    ensure!(
        matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        "wsload only targets loopback addresses"
    );
    ensure!(
        args.sockets >= 1 && args.sockets <= MAX_SOCKETS,
        "--sockets 1..={MAX_SOCKETS}"
    );
    ensure!(
        args.hostels >= 1 && args.hostels <= args.sockets,
        "--hostels 1..=sockets"
    );
    ensure!(
        args.rate >= 1 && args.rate <= MAX_RATE,
        "--rate 1..={MAX_RATE}"
    );
    ensure!(
        args.duration >= 1 && args.duration <= MAX_SECONDS,
        "--duration 1..={MAX_SECONDS}"
    );
    let client = Arc::new(Client {
        http: reqwest::Client::builder().no_proxy().build()?,
        base: args.url.trim_end_matches('/').to_owned(),
        minter: TokenMinter::hs256(
            args.jwt_secret.as_bytes(),
            &args.jwt_issuer,
            &args.jwt_audience,
        )?,
    });
    let admin = client.token(Role::Admin, "wsl-admin", &["*".into()])?;
    let hostel = |n: usize| format!("wsl-{n}");

    // Hostels and one complaint each.
    eprintln!("seeding {} hostels and complaints", args.hostels);
    let mut complaints = Vec::with_capacity(args.hostels);
    for n in 0..args.hostels {
        let (status, body) = client
            .post(
                "/v1/hostels",
                &admin,
                json!({"id": hostel(n), "name": hostel(n), "wings": ["A"], "room_pattern": "A[0-9]{3}",
                       "categories": [{"id": "plumbing", "name": "Plumbing"}]}),
            )
            .await?;
        ensure!(
            status == 201 || status == 409,
            "registering {}: {status} {body}",
            hostel(n)
        );
        let resident = client.token(Role::Resident, &format!("wsl-res-{n}"), &[hostel(n)])?;
        let (status, body) = client
            .post(
                "/v1/complaints",
                &resident,
                json!({"hostel": hostel(n), "wing": "A", "room": "A101", "category": "plumbing",
                       "severity": "low", "title": "Load", "description": "A complaint for wsload."}),
            )
            .await?;
        ensure!(status == 201, "filing in {}: {status} {body}", hostel(n));
        complaints.push(body["complaint_id"].as_str().unwrap_or_default().to_owned());
    }

    // Sockets.
    let before = args.server_pid.and_then(rss_kib);
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let received = Arc::new(AtomicU64::new(0));
    let ws_base = client.base.replacen("http://", "ws://", 1);
    let opening = Arc::new(Semaphore::new(64));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<anyhow::Result<()>>(args.sockets);
    let started = Instant::now();
    for i in 0..args.sockets {
        let token = client.token(
            Role::Staff,
            &format!("wsl-staff-{i}"),
            &[hostel(i % args.hostels)],
        )?;
        let (client, ws_base, opening) = (client.clone(), ws_base.clone(), opening.clone());
        let (histogram, received, ready_tx) =
            (histogram.clone(), received.clone(), ready_tx.clone());
        tokio::spawn(async move {
            let opened = async {
                let _permit = opening.acquire().await?;
                let (status, ticket) = client.post("/v1/ws/ticket", &token, json!({})).await?;
                ensure!(status == 200, "ticket: {status} {ticket}");
                let ticket = ticket["ticket"].as_str().unwrap_or_default();
                let (ws, _) =
                    tokio_tungstenite::connect_async(format!("{ws_base}/v1/ws?ticket={ticket}"))
                        .await?;
                Ok(ws)
            }
            .await;
            let mut ws = match opened {
                Ok(ws) => ws,
                Err(error) => {
                    let _ = ready_tx.send(Err(error)).await;
                    return;
                }
            };
            while let Some(Ok(message)) = ws.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if value["type"] == "live" {
                    let _ = ready_tx.send(Ok(())).await;
                    continue;
                }
                let Some(at) = value["at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                else {
                    continue;
                };
                let micros = (chrono::Utc::now() - at.with_timezone(&chrono::Utc))
                    .num_microseconds()
                    .unwrap_or(0)
                    .max(1);
                received.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut h) = histogram.lock() {
                    let _ = h.record(u64::try_from(micros).unwrap_or(1));
                }
            }
        });
    }
    drop(ready_tx);
    for _ in 0..args.sockets {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(error)) => bail!("opening a socket failed: {error:#}"),
            None => bail!("a socket task ended early"),
        }
    }
    let open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = args.server_pid.and_then(rss_kib);

    // Load.
    eprintln!(
        "{} sockets open in {open_secs:.1} s; {} events/s for {} s",
        args.sockets, args.rate, args.duration
    );
    let writers = Arc::new(Semaphore::new(args.writers));
    let errors = Arc::new(AtomicU64::new(0));
    let total = args.rate * args.duration;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let load_started = Instant::now();
    let mut tasks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for k in 0..total {
        ticker.tick().await;
        let permit = writers.clone().acquire_owned().await?;
        let complaint = complaints[usize::try_from(k).unwrap_or(0) % complaints.len()].clone();
        let (client, admin, errors) = (client.clone(), admin.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let path = format!("/v1/complaints/{complaint}/comments");
            let ok = matches!(
                client
                    .post(&path, &admin, json!({"body": format!("load {k}")}))
                    .await,
                Ok((200, _))
            );
            if !ok {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            drop(permit);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Report.
    let readers = (args.sockets / args.hostels) as u64;
    let extra = (args.sockets % args.hostels) as u64;
    let sent = total - errors.load(Ordering::Relaxed);
    let expected = sent * readers + sent * extra / args.hostels as u64;
    let h = histogram
        .lock()
        .map_err(|_| anyhow::anyhow!("histogram lock"))?;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!("| sockets | memory/socket | events | rate achieved | deliveries expected | received | p50 | p90 | p99 | max |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let per_socket = match (before, after) {
        (Some(b), Some(a)) => format!(
            "{:.1} KiB (RSS {b} -> {a} KiB)",
            (a.saturating_sub(b)) as f64 / args.sockets as f64
        ),
        _ => "n/a (no --server-pid)".into(),
    };
    println!(
        "| {} | {per_socket} | {sent} ({} failed) | {:.0}/s | ~{expected} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        args.sockets,
        errors.load(Ordering::Relaxed),
        sent as f64 / load_secs,
        received.load(Ordering::Relaxed),
        ms(0.5),
        ms(0.9),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
    Ok(())
}

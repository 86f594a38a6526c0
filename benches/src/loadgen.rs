//! `loadgen`: a bounded HTTP load generator for `POST /v1/complaints` on a CMS running on this machine.
//!
//! It seeds (idempotently) a hostel with a room pattern and a category, then, for each concurrency level,
//! runs that many virtual clients that each file complaints in a closed loop (one request in flight per
//! client), every client as its own resident (`load-res-<i>`), every request a distinct valid complaint.
//! Per level it reports requests, errors by status, throughput and latency percentiles (HdrHistogram,
//! microsecond precision) as a Markdown table, and optionally as JSON.
//!
//! Safety rails: only loopback targets (127.0.0.1, localhost, [::1]) are accepted, redirects are not
//! followed, proxies are ignored, and every level is bounded by `--requests` and/or `--duration` under
//! hard caps.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use cms_api::auth::{TokenMinter, TokenSpec};
use cms_domain::actor::Role;
use hdrhistogram::Histogram;
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};

/// The most measured requests one level may send.
const MAX_REQUESTS_PER_LEVEL: u64 = 1_000_000;
/// The longest one level may run, in seconds.
const MAX_SECONDS_PER_LEVEL: f64 = 600.0;
/// The most virtual clients one level may run.
const MAX_CONCURRENCY: usize = 1024;
/// The most warm-up requests per level.
const MAX_WARMUP: u64 = 100_000;
/// Measured requests per level when neither `--requests` nor `--duration` is given.
const DEFAULT_REQUESTS: u64 = 2_000;
/// Latencies above this (60 s, in µs) are clamped in the histogram.
const HISTOGRAM_MAX_MICROS: u64 = 60_000_000;
/// A request that takes longer than this counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Files complaints against a local CMS at several concurrency levels and reports latency and throughput.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
struct Args {
    /// Base URL of the CMS API; the host must be 127.0.0.1, localhost or [::1].
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,

    /// A resident token used by every client (takes precedence over minting one per client).
    #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// An admin token for seeding the hostel when --token is used (without it, seeding is skipped).
    #[arg(long, env = "LOADGEN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// The server's HS256 secret: mint an admin token for seeding and one resident token per client.
    #[arg(long, env = "CMS_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,

    /// Token issuer (must match the server's CMS_JWT_ISSUER).
    #[arg(long, default_value = "cms")]
    jwt_issuer: String,

    /// Token audience (must match the server's CMS_JWT_AUDIENCE).
    #[arg(long, default_value = "cms-api")]
    jwt_audience: String,

    /// The hostel to seed and file complaints in.
    #[arg(long, default_value = "load")]
    hostel: String,

    /// Comma-separated concurrency levels (virtual clients, one request in flight each).
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,

    /// Measured requests per level (default 2000 when --duration is not given either).
    #[arg(long)]
    requests: Option<u64>,

    /// Seconds per level; with --requests too, a level stops at whichever bound comes first.
    #[arg(long)]
    duration: Option<f64>,

    /// Unmeasured requests per level, sent first at the same concurrency.
    #[arg(long, default_value_t = 100)]
    warmup: u64,

    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// The bounds of one level, checked against the hard caps.
#[derive(Debug, Clone, Copy)]
struct Budget {
    requests: u64,
    duration: Duration,
}

/// How each virtual client authenticates.
enum Tokens {
    Shared(String),
    PerClient(Vec<String>),
}

impl Tokens {
    fn for_client(&self, client: usize) -> &str {
        match self {
            Tokens::Shared(token) => token,
            Tokens::PerClient(tokens) => &tokens[client % tokens.len()],
        }
    }
}

/// What one virtual client observed.
struct ClientTally {
    latencies: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    first_error: Option<String>,
}

/// What one level measured.
struct LevelReport {
    concurrency: usize,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    first_error: Option<String>,
    elapsed: Duration,
    latencies: Histogram<u64>,
}

impl LevelReport {
    fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    fn micros(&self, quantile: f64) -> u64 {
        if self.latencies.is_empty() {
            0
        } else {
            self.latencies.value_at_quantile(quantile)
        }
    }

    fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "0".to_owned();
        }
        self.errors
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn to_json(&self) -> Value {
        json!({
            "concurrency": self.concurrency,
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "first_error": self.first_error,
            "elapsed_secs": self.elapsed.as_secs_f64(),
            "throughput_per_sec": self.throughput(),
            "latency_us": {
                "p50": self.micros(0.50),
                "p90": self.micros(0.90),
                "p99": self.micros(0.99),
                "max": self.latencies.max(),
                "mean": self.latencies.mean(),
            },
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let base = loopback_url(&args.url)?;
    let budget = budget(&args)?;
    let levels = levels(&args.concurrency)?;
    let max_clients = levels.iter().copied().max().unwrap_or(1);

    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(max_clients)
        .build()
        .context("building the HTTP client")?;
    check_ready(&client, &base).await?;

    let ttl = token_ttl(budget, args.warmup, levels.len());
    let minter = match &args.jwt_secret {
        Some(secret) => Some(
            TokenMinter::hs256(
                secret.as_bytes(),
                args.jwt_issuer.clone(),
                args.jwt_audience.clone(),
            )
            .context("the JWT secret")?,
        ),
        None => None,
    };
    let admin_token = match (&minter, &args.admin_token) {
        (_, Some(token)) => Some(token.clone()),
        (Some(minter), None) => Some(mint(minter, Role::Admin, "load-admin", "*", ttl)?),
        (None, None) => None,
    };
    let tokens = match (&minter, &args.token) {
        (_, Some(token)) => Tokens::Shared(token.clone()),
        (Some(minter), None) => Tokens::PerClient(
            (0..max_clients)
                .map(|i| {
                    mint(
                        minter,
                        Role::Resident,
                        &format!("load-res-{i}"),
                        &args.hostel,
                        ttl,
                    )
                })
                .collect::<anyhow::Result<_>>()?,
        ),
        (None, None) => bail!("give --jwt-secret (or CMS_JWT_SECRET), or --token"),
    };
    let tokens = Arc::new(tokens);

    match &admin_token {
        Some(admin) => seed_hostel(&client, &base, admin, &args.hostel).await?,
        None => eprintln!(
            "no admin token: assuming hostel `{}` is already registered",
            args.hostel
        ),
    }

    let run = uuid::Uuid::new_v4().simple().to_string();
    let run = &run[..8];
    let started = chrono::Utc::now();
    let mut reports = Vec::with_capacity(levels.len());
    for &concurrency in &levels {
        let shared = Shared {
            client: client.clone(),
            url: base.join("v1/complaints").context("the complaints URL")?,
            hostel: args.hostel.clone(),
            run: format!("{run}-c{concurrency}"),
            tokens: Arc::clone(&tokens),
        };
        let shared = Arc::new(shared);
        if args.warmup > 0 {
            let warmup = Budget {
                requests: args.warmup,
                duration: budget.duration,
            };
            run_level(&shared, concurrency, warmup, "w").await?;
        }
        let report = run_level(&shared, concurrency, budget, "m").await?;
        eprintln!(
            "concurrency {concurrency}: {} requests, {:.1} commands/s",
            report.requests,
            report.throughput()
        );
        reports.push(report);
    }

    print_markdown(&args, &base, budget, started, &reports);
    if let Some(path) = &args.json {
        let document = json!({
            "date": started.to_rfc3339(),
            "url": base.as_str(),
            "hostel": args.hostel,
            "warmup_per_level": args.warmup,
            "requests_per_level": budget.requests,
            "duration_limit_secs": budget.duration.as_secs_f64(),
            "levels": reports.iter().map(LevelReport::to_json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&document)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if reports.iter().all(|r| r.ok == 0) {
        bail!("no request succeeded");
    }
    Ok(())
}

/// Parses `url` and refuses anything but a plain http(s) URL on a loopback host.
fn loopback_url(url: &str) -> anyhow::Result<Url> {
    let mut parsed = Url::parse(url).with_context(|| format!("--url `{url}` is not a URL"))?;
    ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "--url must be http:// or https://"
    );
    let host = parsed.host_str().unwrap_or_default();
    ensure!(
        matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        "--url host `{host}` refused: loadgen only targets 127.0.0.1, localhost or [::1]"
    );
    ensure!(
        parsed.username().is_empty() && parsed.password().is_none(),
        "--url must not carry credentials"
    );
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed)
}

fn budget(args: &Args) -> anyhow::Result<Budget> {
    if let Some(requests) = args.requests {
        ensure!(
            (1..=MAX_REQUESTS_PER_LEVEL).contains(&requests),
            "--requests must be 1..={MAX_REQUESTS_PER_LEVEL}"
        );
    }
    if let Some(secs) = args.duration {
        ensure!(
            secs > 0.0 && secs <= MAX_SECONDS_PER_LEVEL,
            "--duration must be in (0, {MAX_SECONDS_PER_LEVEL}] seconds"
        );
    }
    ensure!(
        args.warmup <= MAX_WARMUP,
        "--warmup must be at most {MAX_WARMUP}"
    );
    let requests = match (args.requests, args.duration) {
        (Some(requests), _) => requests,
        (None, Some(_)) => MAX_REQUESTS_PER_LEVEL,
        (None, None) => DEFAULT_REQUESTS,
    };
    let duration = Duration::from_secs_f64(args.duration.unwrap_or(MAX_SECONDS_PER_LEVEL));
    Ok(Budget { requests, duration })
}

fn levels(concurrency: &[usize]) -> anyhow::Result<Vec<usize>> {
    ensure!(
        !concurrency.is_empty(),
        "--concurrency needs at least one level"
    );
    ensure!(
        concurrency.len() <= 16,
        "--concurrency takes at most 16 levels"
    );
    for &level in concurrency {
        ensure!(
            (1..=MAX_CONCURRENCY).contains(&level),
            "each --concurrency level must be 1..={MAX_CONCURRENCY}"
        );
    }
    Ok(concurrency.to_vec())
}

/// Long enough for every level at its longest, warm-up included, within the minter's limit.
fn token_ttl(budget: Budget, warmup: u64, levels: usize) -> Duration {
    let levels = u32::try_from(levels).unwrap_or(u32::MAX);
    let per_level = budget
        .duration
        .saturating_mul(if warmup > 0 { 2 } else { 1 });
    per_level
        .saturating_mul(levels)
        .saturating_add(Duration::from_secs(300))
        .min(TokenMinter::MAX_TTL)
}

fn mint(
    minter: &TokenMinter,
    role: Role,
    sub: &str,
    hostel: &str,
    ttl: Duration,
) -> anyhow::Result<String> {
    minter
        .mint(&TokenSpec {
            sub: sub.to_owned(),
            role,
            hostels: vec![hostel.to_owned()],
            name: None,
            ttl,
        })
        .with_context(|| format!("minting a {role} token for `{sub}`"))
}

async fn check_ready(client: &reqwest::Client, base: &Url) -> anyhow::Result<()> {
    let url = base.join("readyz")?;
    let response = client
        .get(url.clone())
        .send()
        .await
        .with_context(|| format!("GET {url}: is `cms serve` running?"))?;
    let status = response.status();
    ensure!(
        status == StatusCode::OK,
        "GET {url} answered {status}: the server is not ready"
    );
    Ok(())
}

/// Registers the hostel (wings A and B, rooms like B204, category `plumbing`); an existing one is fine.
async fn seed_hostel(
    client: &reqwest::Client,
    base: &Url,
    admin: &str,
    hostel: &str,
) -> anyhow::Result<()> {
    let body = json!({
        "id": hostel,
        "name": "Load test hostel",
        "wings": ["A", "B"],
        "room_pattern": "[AB][0-9]{3}",
        "categories": [{"id": "plumbing", "name": "Plumbing"}],
    });
    let response = client
        .post(base.join("v1/hostels")?)
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .context("POST /v1/hostels")?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    let code = answer["error"]["code"].as_str().unwrap_or_default();
    match status {
        StatusCode::CREATED => eprintln!("seeded hostel `{hostel}`"),
        StatusCode::CONFLICT if code == "hostel_already_registered" => {
            eprintln!("hostel `{hostel}` already registered");
        }
        _ => bail!("seeding hostel `{hostel}` failed: {status} {answer}"),
    }
    Ok(())
}

/// What every client of a level shares.
struct Shared {
    client: reqwest::Client,
    url: Url,
    hostel: String,
    run: String,
    tokens: Arc<Tokens>,
}

/// A distinct, valid complaint: the run, phase, client and sequence number make each one unique.
fn complaint_body(shared: &Shared, phase: &str, client: usize, n: u64) -> Value {
    let wing = if n % 2 == 0 { "A" } else { "B" };
    let severity = ["low", "medium", "high", "urgent"][(n % 4) as usize];
    json!({
        "hostel": shared.hostel,
        "wing": wing,
        "room": format!("{wing}{:03}", n % 1000),
        "category": "plumbing",
        "severity": severity,
        "title": format!("Load {} {phase} #{n}", shared.run),
        "description": format!(
            "Synthetic complaint {n} from load client {client} (run {}, phase {phase}): the tap drips.",
            shared.run
        ),
    })
}

async fn run_level(
    shared: &Arc<Shared>,
    concurrency: usize,
    budget: Budget,
    phase: &'static str,
) -> anyhow::Result<LevelReport> {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + budget.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..concurrency {
        let shared = Arc::clone(shared);
        let issued = Arc::clone(&issued);
        tasks.spawn(async move {
            drive_client(&shared, client, &issued, budget.requests, deadline, phase).await
        });
    }
    let mut report = LevelReport {
        concurrency,
        requests: 0,
        ok: 0,
        errors: BTreeMap::new(),
        first_error: None,
        elapsed: Duration::ZERO,
        latencies: new_histogram()?,
    };
    while let Some(tally) = tasks.join_next().await {
        let tally = tally.context("a load client panicked")??;
        report.ok += tally.ok;
        for (status, count) in tally.errors {
            *report.errors.entry(status).or_default() += count;
        }
        if report.first_error.is_none() {
            report.first_error = tally.first_error;
        }
        report
            .latencies
            .add(&tally.latencies)
            .context("merging histograms")?;
    }
    report.elapsed = started.elapsed();
    report.requests = report.ok + report.errors.values().sum::<u64>();
    if let Some(error) = &report.first_error {
        eprintln!("concurrency {concurrency} ({phase}): first error: {error}");
    }
    Ok(report)
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_MICROS, 3).context("creating a histogram")
}

/// One virtual client: files complaints back to back until the level's budget or deadline is spent.
async fn drive_client(
    shared: &Shared,
    client: usize,
    issued: &AtomicU64,
    budget: u64,
    deadline: Instant,
    phase: &str,
) -> anyhow::Result<ClientTally> {
    let token = shared.tokens.for_client(client);
    let mut tally = ClientTally {
        latencies: new_histogram()?,
        ok: 0,
        errors: BTreeMap::new(),
        first_error: None,
    };
    loop {
        let n = issued.fetch_add(1, Ordering::Relaxed);
        if n >= budget || Instant::now() >= deadline {
            break;
        }
        let body = complaint_body(shared, phase, client, n);
        let sent = Instant::now();
        let outcome = match shared
            .client
            .post(shared.url.clone())
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                // Read the whole body so the connection goes back to the pool.
                match response.bytes().await {
                    Ok(_) if status == StatusCode::CREATED => Ok(()),
                    Ok(bytes) => Err((
                        status.as_u16().to_string(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    )),
                    Err(error) => Err(("io".to_owned(), error.to_string())),
                }
            }
            Err(error) if error.is_timeout() => Err(("timeout".to_owned(), error.to_string())),
            Err(error) => Err(("io".to_owned(), error.to_string())),
        };
        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(()) => {
                tally.ok += 1;
                tally.latencies.saturating_record(micros.max(1));
            }
            Err((status, detail)) => {
                *tally.errors.entry(status.clone()).or_default() += 1;
                if tally.first_error.is_none() {
                    let detail: String = detail.chars().take(300).collect();
                    tally.first_error = Some(format!("{status} {detail}"));
                }
            }
        }
    }
    Ok(tally)
}

fn millis(micros: u64) -> String {
    format!("{:.3}", micros as f64 / 1000.0)
}

fn print_markdown(
    args: &Args,
    base: &Url,
    budget: Budget,
    started: chrono::DateTime<chrono::Utc>,
    reports: &[LevelReport],
) {
    let bound = match args.duration {
        Some(secs) => format!(
            "{} requests or {secs} s per level, whichever first",
            budget.requests
        ),
        None => format!("{} requests per level", budget.requests),
    };
    println!(
        "POST /v1/complaints on {base} (hostel `{}`), {} UTC; {bound}, {} warm-up requests per level",
        args.hostel,
        started.format("%Y-%m-%d %H:%M:%S"),
        args.warmup
    );
    println!();
    println!("| concurrency | requests | errors | throughput (commands/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|");
    for r in reports {
        println!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} |",
            r.concurrency,
            r.requests,
            r.errors_text(),
            r.throughput(),
            millis(r.micros(0.50)),
            millis(r.micros(0.90)),
            millis(r.micros(0.99)),
            millis(r.latencies.max()),
        );
    }
    println!();
    println!("Latencies are of successful (201) requests; throughput counts successful commands per second.");
}

//! `cms token`: mint a JWT with the configured key (the development secret, or a private key) and
//! print it.

use std::time::Duration;

use clap::Args;
use cms_domain::actor::Role;

use crate::auth::TokenSpec;
use crate::config::Settings;

#[derive(Debug, Args)]
pub(super) struct TokenArgs {
    /// The role: resident, staff, warden, admin, auditor or service.
    #[arg(long)]
    role: Role,
    /// The subject (user id).
    #[arg(long)]
    sub: String,
    /// A hostel the token is scoped to (repeat for several; `*` for all, admin and auditor only).
    #[arg(long = "hostel")]
    hostels: Vec<String>,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u64,
}

/// Mints the token and prints it.
pub(super) fn run(settings: &Settings, args: TokenArgs) -> anyhow::Result<()> {
    let minter = settings.jwt.token_minter(&settings.data_dir)?;
    let token = minter.mint(&TokenSpec {
        sub: args.sub,
        role: args.role,
        hostels: args.hostels,
        name: args.name,
        ttl: Duration::from_secs(args.ttl_secs),
    })?;
    println!("{token}");
    Ok(())
}
